package watch

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const server = "https://10.0.0.1:6443"

func urlErr(err error) error {
	return &url.Error{Op: "Get", URL: server + "/api", Err: err}
}

func TestErrorMessage(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"connection refused", urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			"cannot reach the API server at https://10.0.0.1:6443: connection refused; check --kubeconfig/--context and that the cluster is running"},
		{"refused, only as text (discovery flattens errors)", errors.New(`couldn't get current server API group list: Get "https://10.0.0.1:6443/api": dial tcp 10.0.0.1:6443: connect: connection refused`),
			"cannot reach the API server at https://10.0.0.1:6443: connection refused; check --kubeconfig/--context and that the cluster is running"},
		{"unknown host", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "api.example"}}),
			`cannot reach the API server at https://10.0.0.1:6443: host "api.example" not found; check --kubeconfig/--context and --server`},
		{"unknown authority", urlErr(x509.UnknownAuthorityError{}),
			"cannot verify the TLS certificate of the API server at https://10.0.0.1:6443: certificate signed by unknown authority; check certificate-authority in the kubeconfig"},
		{"timeout", urlErr(context.DeadlineExceeded),
			"the API server at https://10.0.0.1:6443 did not answer in time; check the network, --kubeconfig/--context, or raise --request-timeout"},
		{"i/o timeout", urlErr(&net.OpError{Op: "dial", Err: timeoutErr{}}),
			"the API server at https://10.0.0.1:6443 did not answer in time; check the network, --kubeconfig/--context, or raise --request-timeout"},
		{"no route", urlErr(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}),
			"cannot reach the API server at https://10.0.0.1:6443: no route to host; check the network and --kubeconfig/--context"},
		{"401", apierrors.NewUnauthorized("Unauthorized"),
			"the API server at https://10.0.0.1:6443 rejected the credentials (401 Unauthorized); log in again or check --kubeconfig, --context and --token"},
		{"403", apierrors.NewForbidden(gr, "", errors.New(`User "dev" cannot list resource "pods" in API group "" in the namespace "shop"`)),
			`permission denied: pods is forbidden: User "dev" cannot list resource "pods" in API group "" in the namespace "shop"`},
		{"404", apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web"),
			`deployments.apps "web" not found`},
		{"no such type", &meta.NoResourceMatchError{PartialResource: schema.GroupVersionResource{Resource: "foos"}},
			"no matches for /, Resource=foos; check the resource type (kubectl api-resources lists them)"},
		{"empty kubeconfig", clientcmd.ErrEmptyConfig,
			"no Kubernetes configuration found: set --kubeconfig or KUBECONFIG, or run inside a cluster"},
		{"already worded", &Error{Msg: "kept as is", Err: errors.New("x")}, "kept as is"},
		{"wrapped and worded", fmt.Errorf("outer: %w", &Error{Msg: "inner wording"}), "outer: inner wording"},
		{"multi-line falls back to its first line", errors.New("first line\nsecond line"), "first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorMessage(tt.err, server); got != tt.want {
				t.Errorf("ErrorMessage()\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if got := ErrorMessage(nil, server); got != "" {
		t.Errorf("ErrorMessage(nil) = %q", got)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// A real client against a closed port and a server that rejects the token.
func TestErrorMessageFromRealClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
	}))
	defer unauthorized.Close()

	for _, tc := range []struct {
		host, want string
	}{
		{closed, "cannot reach the API server at " + closed + ": connection refused"},
		{unauthorized.URL, "the API server at " + unauthorized.URL + " rejected the credentials (401 Unauthorized)"},
	} {
		cs, err := kubernetes.NewForConfig(&rest.Config{Host: tc.host, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cs.Discovery().ServerVersion()
		if got := ErrorMessage(err, tc.host); !strings.HasPrefix(got, tc.want) {
			t.Errorf("ErrorMessage(%v)\n got %q\nwant prefix %q", err, got, tc.want)
		}
	}
}

// Start against an unreachable server fails with one line, within the check timeout.
func TestStartAgainstUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := "http://" + ln.Addr().String()
	ln.Close()
	w, err := New(&rest.Config{Host: host, Timeout: 2 * time.Second}, namespaceTarget("shop", false, labels.Everything()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = w.Start(context.Background())
	if err == nil {
		t.Fatal("Start succeeded against a closed port")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Start took %s, more than --request-timeout", took)
	}
	want := "cannot reach the API server at " + host + ": connection refused; check --kubeconfig/--context and that the cluster is running"
	if err.Error() != want {
		t.Errorf("error %q\nwant %q", err, want)
	}
}

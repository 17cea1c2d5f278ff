package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// DefaultConnectTimeout bounds the first request to the API server when --request-timeout is
// not set: a server that accepts connections and never answers is reported, not waited on.
const DefaultConnectTimeout = 15 * time.Second

// Probe asks the API server for /version within timeout and says, in one line, what is wrong
// when the answer is not a Kubernetes API server's: no answer, plain HTTP on an https URL, a
// web server, an error status. It returns the server's version.
func Probe(ctx context.Context, cfg *rest.Config, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	c := rest.CopyConfig(cfg)
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return "", classify(err, cfg.Host)
	}
	client := dc.RESTClient()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := client.Get().AbsPath("/version").Do(ctx)
	body, err := res.Raw()
	var code int
	res.StatusCode(&code)
	at := "the server at " + cfg.Host
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && code == 0:
		return "", &Error{Err: err, Msg: fmt.Sprintf("%s accepted the connection but did not answer within %s; check --kubeconfig/--context and the server, or raise --request-timeout", at, timeout)}
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		return "", &Error{Err: ctx.Err(), Msg: "interrupted while connecting to " + cfg.Host}
	case err != nil && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "", &Error{Err: err, Msg: fmt.Sprintf("%s speaks plain HTTP, not HTTPS: use an http:// URL in the kubeconfig, or the server's TLS port", at)}
	case err != nil && strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		return "", &Error{Err: err, Msg: fmt.Sprintf("%s did not answer with TLS: check the URL and port in the kubeconfig", at)}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		// Some API servers keep /version from anonymous users; the real requests say more.
		return "", nil
	case code != 0 && code != http.StatusOK && !apierrors.IsNotFound(err) && looksLikeStatus(body):
		return "", classify(err, cfg.Host)
	case code != 0 && code != http.StatusOK:
		return "", &Error{Err: err, Msg: fmt.Sprintf("%s answered %d to GET /version: it is not a Kubernetes API server; check the server URL in the kubeconfig (--context, --server)", at, code)}
	case err != nil:
		return "", classify(err, cfg.Host)
	}
	var v version.Info
	if json.Unmarshal(body, &v) != nil || v.GitVersion == "" {
		return "", &Error{Msg: fmt.Sprintf("%s answered GET /version with something other than a Kubernetes version (%s): it is not a Kubernetes API server; check the server URL in the kubeconfig", at, describeBody(body))}
	}
	return v.GitVersion, nil
}

// looksLikeStatus says whether an error body is a Kubernetes Status object.
func looksLikeStatus(body []byte) bool {
	var s struct{ Kind, APIVersion string }
	return json.Unmarshal(body, &s) == nil && s.Kind == "Status"
}

func describeBody(body []byte) string {
	s := strings.TrimSpace(string(body))
	switch {
	case s == "":
		return "an empty body"
	case strings.HasPrefix(strings.ToLower(s), "<!doctype") || strings.HasPrefix(strings.ToLower(s), "<html"):
		return "an HTML page"
	}
	return fmt.Sprintf("%d bytes that are not a version object", len(body))
}

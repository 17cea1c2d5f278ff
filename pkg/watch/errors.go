package watch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/clientcmd"
)

// Error is an error already worded for the user: what went wrong and what to do, in one line
// (a permission error on pods adds the Role to apply below it). Err keeps the cause for
// errors.Is/As.
type Error struct {
	Msg string
	Err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorMessage words err for the user in one line: unreachable servers, TLS problems, bad
// credentials, missing permissions, timeouts and kubeconfig problems each get a message that
// names the server and the flag to check. server is the API server URL (rest.Config.Host); it
// may be empty. Errors returned by this package are already worded this way.
func ErrorMessage(err error, server string) string {
	if err == nil {
		return ""
	}
	return classify(err, server).Error()
}

// classify wraps err into an *Error unless it already is one.
func classify(err error, server string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Msg: oneLine(describe(err, server)), Err: err}
}

func describe(err error, server string) string {
	at := "the API server"
	if server != "" {
		at = "the API server at " + server
	}
	msg := err.Error()
	lower := strings.ToLower(msg)

	var dnsErr *net.DNSError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var netErr net.Error

	switch {
	case clientcmd.IsEmptyConfig(err):
		return "no Kubernetes configuration found: set --kubeconfig or KUBECONFIG, or run inside a cluster"
	case clientcmd.IsConfigurationInvalid(err):
		return fmt.Sprintf("invalid kubeconfig: %s; check --kubeconfig and --context", msg)
	case apierrors.IsUnauthorized(err):
		return fmt.Sprintf("%s rejected the credentials (401 Unauthorized); log in again or check --kubeconfig, --context and --token", at)
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("permission denied: %s", statusMessage(err))
	case apierrors.IsNotFound(err):
		return statusMessage(err)
	case apierrors.IsInternalError(err) || isServerError(err):
		return fmt.Sprintf("%s failed the request (%s); retry later, or check the API server and what is in front of it", at, statusMessage(err))
	case meta.IsNoMatchError(err):
		return fmt.Sprintf("%s; check the resource type (kubectl api-resources lists them)", msg)
	case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err):
		return fmt.Sprintf("%s timed out: %s; retry or raise --request-timeout", at, statusMessage(err))
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot reach %s: host %q not found; check --kubeconfig/--context and --server", at, dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(lower, "connection refused"):
		return fmt.Sprintf("cannot reach %s: connection refused; check --kubeconfig/--context and that the cluster is running", at)
	case errors.As(err, &unknownAuthority) || errors.As(err, &hostnameErr) ||
		errors.As(err, &invalidCert) || errors.As(err, &verifyErr) || strings.Contains(lower, "x509:"):
		return fmt.Sprintf("cannot verify the TLS certificate of %s: %s; check certificate-authority in the kubeconfig", at, tlsReason(msg))
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) ||
		strings.Contains(lower, "i/o timeout") || strings.Contains(lower, "deadline exceeded"):
		return fmt.Sprintf("%s did not answer in time; check the network, --kubeconfig/--context, or raise --request-timeout", at)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		strings.Contains(lower, "no route to host") || strings.Contains(lower, "network is unreachable"):
		return fmt.Sprintf("cannot reach %s: %s; check the network and --kubeconfig/--context", at, lastPart(msg))
	case strings.Contains(lower, "provide credentials") || strings.Contains(lower, "unauthorized"):
		return fmt.Sprintf("%s rejected the credentials (401 Unauthorized); log in again or check --kubeconfig, --context and --token", at)
	}
	return msg
}

// statusMessage is the server's own message for an API status error, without the Go prefix.
func statusMessage(err error) string {
	var s apierrors.APIStatus
	if errors.As(err, &s) && s.Status().Message != "" {
		return s.Status().Message
	}
	return err.Error()
}

// tlsReason keeps the part of a TLS error after "x509: ", which is the readable reason.
func tlsReason(msg string) string {
	if i := strings.Index(msg, "x509: "); i >= 0 {
		return msg[i+len("x509: "):]
	}
	return lastPart(msg)
}

// lastPart drops the "Get https://...: dial tcp ...:" chain in front of a network error.
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// isServerError is a 5xx answer.
func isServerError(err error) bool {
	var s apierrors.APIStatus
	return errors.As(err, &s) && s.Status().Code >= 500
}

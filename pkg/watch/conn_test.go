package watch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestConnWatchReportsOutages(t *testing.T) {
	var warnings []string
	c := &connWatch{server: "https://10.0.0.1:6443"}
	fail := errors.New(`dial tcp 10.0.0.1:6443: connect: connection refused`)
	results := []error{fail, nil, fail, fail, nil, nil}
	i := 0
	rt := c.wrap(roundTripperFunc(func(*http.Request) (*http.Response, error) {
		err := results[i]
		i++
		if err != nil {
			return nil, err
		}
		return &http.Response{StatusCode: 200}, nil
	}))
	req, _ := http.NewRequest("GET", "https://10.0.0.1:6443/api/v1/pods", nil)

	_, _ = rt.RoundTrip(req) // before enable: Start reports failures itself
	_, _ = rt.RoundTrip(req)
	c.enable(func(s string) { warnings = append(warnings, s) })
	for range 4 {
		_, _ = rt.RoundTrip(req)
	}
	if len(warnings) != 2 {
		t.Fatalf("warnings %q, want one for the outage and one for the reconnect", warnings)
	}
	if want := "lost the connection to the API server (cannot reach the API server at https://10.0.0.1:6443: connection refused;"; !strings.HasPrefix(warnings[0], want) {
		t.Errorf("warning %q, want prefix %q", warnings[0], want)
	}
	if !strings.HasPrefix(warnings[1], "reconnected to the API server after ") {
		t.Errorf("warning %q", warnings[1])
	}

	// A request cancelled by shutdown is not an outage.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cancelled := c.wrap(roundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, context.Canceled }))
	_, _ = cancelled.RoundTrip(req.WithContext(ctx))
	if len(warnings) != 2 {
		t.Errorf("shutdown reported as an outage: %q", warnings[2:])
	}
}

package watch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// connWatch notices when requests to the API server start failing and when they work again.
// Informers retry a refused watch quietly (and resume where they were, so nothing is lost),
// but every change made meanwhile is stamped when it finally arrives: the user must be told
// that the timeline has a blind spot there. It reports only once enabled (after the initial
// sync), since failures before that already fail Start.
type connWatch struct {
	server string

	mu        sync.Mutex
	warn      func(string)
	downSince time.Time
}

// enable starts reporting outages to warn.
func (c *connWatch) enable(warn func(string)) {
	c.mu.Lock()
	c.warn = warn
	c.mu.Unlock()
}

// wrap is a rest.Config WrapTransport.
func (c *connWatch) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err != nil && (errors.Is(err, context.Canceled) || r.Context().Err() != nil) {
			return resp, err // shutting down, not an outage
		}
		c.observe(err)
		return resp, err
	})
}

func (c *connWatch) observe(err error) {
	c.mu.Lock()
	var msg string
	switch {
	case c.warn == nil:
	case err != nil && c.downSince.IsZero():
		c.downSince = time.Now()
		msg = fmt.Sprintf("lost the connection to the API server (%s); retrying, and changes made meanwhile are stamped when they arrive", ErrorMessage(err, c.server))
	case err == nil && !c.downSince.IsZero():
		msg = fmt.Sprintf("reconnected to the API server after %s", time.Since(c.downSince).Round(100*time.Millisecond))
		c.downSince = time.Time{}
	}
	warn := c.warn
	c.mu.Unlock()
	if msg != "" {
		warn(msg)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

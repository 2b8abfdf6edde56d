package mobileconnect

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// quota is the opt-in call quota per client (Config.Quota per
// QuotaWindow): the seed's demo environment allows 100 calls a day and
// its API gateway answers 429 beyond. New logins (authorize, si-authorize,
// bc-authorize) and token requests count; the headless re-GETs of a login
// under way do not.
type quota struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	used   map[string]*quotaWindow
}

type quotaWindow struct {
	start time.Time
	n     int
}

func newQuota(limit int, window time.Duration) *quota {
	return &quota{limit: limit, window: window, used: map[string]*quotaWindow{}}
}

// take counts one call of clientID at now; over the quota it returns the
// error to answer (429 with Retry-After).
func (q *quota) take(clientID string, now time.Time) *Error {
	if q.limit <= 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.used[clientID]
	if w == nil || now.Sub(w.start) >= q.window {
		if len(q.used) > 100000 { // bounded: forget finished windows
			for k, x := range q.used {
				if now.Sub(x.start) >= q.window {
					delete(q.used, k)
				}
			}
		}
		w = &quotaWindow{start: now}
		q.used[clientID] = w
	}
	if w.n >= q.limit {
		return &Error{Code: "quota_exceeded", Description: "the client's quota of " + strconv.Itoa(q.limit) + " calls per " + q.window.String() + " is used up",
			Status: http.StatusTooManyRequests, RetryAfter: w.start.Add(q.window).Sub(now)}
	}
	w.n++
	return nil
}

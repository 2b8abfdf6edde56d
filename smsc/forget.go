package smsc

import (
	"sync"
	"sync/atomic"
	"time"
)

// forgetting keeps, for a while, the open-mode system_ids Server.Forget
// dropped, so that a receipt still held back by ReceiptDelay then is
// dropped too when its hold ends. Such a receipt is pushed to the outbox
// of an account already freed (retired), which would otherwise make the
// account again (engine.rehome) and owe the receipt to a namespace that
// no longer exists. Only outboxes made before the Forget are concerned: a
// namespace made again with the same name is a new account.
type forgetting struct {
	// born counts the outboxes made (outbox.born).
	born atomic.Uint64

	mu    sync.Mutex
	tombs map[string]tomb
}

// tomb is a Forget: outboxes born up to gen are gone; kept until expires.
type tomb struct {
	gen     uint64
	expires time.Time
}

// tombLife is how long a Forget is remembered beyond ReceiptDelay: a
// receipt is held at most until its session's writer ends and then
// ReceiptDelay more, and a namespace is deleted after its binds ended.
const tombLife = time.Minute

// remember records a Forget of systemID at now and drops the records that
// expired.
func (f *forgetting) remember(systemID string, now time.Time, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, t := range f.tombs {
		if now.After(t.expires) {
			delete(f.tombs, k)
		}
	}
	if f.tombs == nil {
		f.tombs = make(map[string]tomb)
	}
	f.tombs[systemID] = tomb{gen: f.born.Load(), expires: now.Add(delay + tombLife)}
}

// keep undoes remember when the Forget did not free the account.
func (f *forgetting) keep(systemID string) {
	f.mu.Lock()
	delete(f.tombs, systemID)
	f.mu.Unlock()
}

// dropped reports whether an item pushed to the closed box at now belongs
// to a forgotten account: box is a freed account's outbox, made before
// that system_id's Forget.
func (f *forgetting) dropped(box *outbox, now time.Time) bool {
	if box.own != nil || !box.retired.Load() {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tombs[box.key]
	return ok && box.born <= t.gen && !now.After(t.expires)
}

package push

import (
	"context"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/smsc/client"
)

// Receipts dispatches delivery receipts to the submissions waiting for them,
// whichever bind they arrive on: an SMSC may hand a receipt to any receiver
// or transceiver bind of the account (SMPP v3.4 §2.3), so waiting on the
// submitting session alone (client.Client.AwaitReceipt) loses receipts once
// there are several binds. Install OnDeliver on every bind (a Pusher does
// so itself). Create it with NewReceipts; it is safe for concurrent use.
type Receipts struct {
	mu      sync.Mutex
	waiting map[string]chan arrived
	early   map[string]arrived // receipts that came before anyone awaited them
	order   []string           // early ids, oldest first
	// Keep bounds the early receipts kept (default 65,536): receipts
	// nobody awaits (a challenge that gave up, another application's
	// message on the same account) are dropped oldest first.
	Keep int
	now  func() time.Time
}

type arrived struct {
	r  *client.Receipt
	at time.Time
}

// NewReceipts returns an empty dispatcher.
func NewReceipts() *Receipts {
	return &Receipts{waiting: map[string]chan arrived{}, early: map[string]arrived{}, now: time.Now}
}

// OnDeliver takes every deliver_sm of a bind: receipts (SMPP v3.4
// §5.2.12, esm_class bits 5-2) are dispatched by message id, other
// messages ignored. It never blocks.
func (rs *Receipts) OnDeliver(d *client.Deliver) uint32 {
	if d.Receipt == nil || d.Receipt.ID == "" {
		return client.StatusOK
	}
	a := arrived{r: d.Receipt, at: rs.now()}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if ch, ok := rs.waiting[d.Receipt.ID]; ok {
		delete(rs.waiting, d.Receipt.ID)
		ch <- a // buffered 1, sole sender
		return client.StatusOK
	}
	keep := rs.Keep
	if keep <= 0 {
		keep = 65536
	}
	if _, dup := rs.early[d.Receipt.ID]; !dup {
		rs.order = append(rs.order, d.Receipt.ID)
	}
	rs.early[d.Receipt.ID] = a
	for len(rs.order) > keep {
		delete(rs.early, rs.order[0])
		rs.order = rs.order[1:]
	}
	return client.StatusOK
}

// Await waits for the receipt of message id and returns it with the time
// it arrived. A receipt that arrived before the call is found too.
func (rs *Receipts) Await(ctx context.Context, id string) (*client.Receipt, time.Time, error) {
	rs.mu.Lock()
	if a, ok := rs.early[id]; ok {
		delete(rs.early, id)
		for i, x := range rs.order {
			if x == id {
				rs.order = append(rs.order[:i], rs.order[i+1:]...)
				break
			}
		}
		rs.mu.Unlock()
		return a.r, a.at, nil
	}
	ch := make(chan arrived, 1)
	rs.waiting[id] = ch
	rs.mu.Unlock()
	select {
	case a := <-ch:
		return a.r, a.at, nil
	case <-ctx.Done():
		rs.mu.Lock()
		if rs.waiting[id] == ch {
			delete(rs.waiting, id)
		}
		rs.mu.Unlock()
		select { // it may have come in between
		case a := <-ch:
			return a.r, a.at, nil
		default:
		}
		return nil, time.Time{}, ctx.Err()
	}
}

// awaitAll delivers the first failed receipt among ids, or the delivered
// one of the last part to come once every part is delivered; nothing when
// ctx ends first. The parts are awaited together, so with receipts for
// failures only (registered_delivery 2) a failed second part is seen too.
func (rs *Receipts) awaitAll(ctx context.Context, ids []string) <-chan *client.Receipt {
	out := make(chan *client.Receipt, 1)
	switch len(ids) {
	case 0:
		return out
	case 1: // a one-part message (most challenges): its receipt as it is
		go func() {
			if rc, _, err := rs.Await(ctx, ids[0]); err == nil {
				out <- rc
			}
		}()
		return out
	}
	in := make(chan *client.Receipt, len(ids)) // room for every waiter: none blocks
	for _, id := range ids {
		go func() {
			rc, _, err := rs.Await(ctx, id)
			if err != nil {
				rc = nil
			}
			in <- rc
		}()
	}
	go func() {
		var last *client.Receipt
		for range ids {
			rc := <-in
			if rc == nil {
				return // ctx ended
			}
			if !rc.Delivered() {
				out <- rc
				return
			}
			last = rc
		}
		out <- last
	}()
	return out
}

package push

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/simlab-dev/simlab/smsc/client"
)

func receipt(id, stat string) *client.Deliver {
	return &client.Deliver{Receipt: &client.Receipt{ID: id, Stat: stat}}
}

func TestReceiptsEarlyLateAndCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testReceipts)
}

func testReceipts(t *testing.T) {
	rs := NewReceipts()
	rs.Keep = 2
	ctx := t.Context()

	// Early: the receipt beats the submitter to Await.
	rs.OnDeliver(receipt("a", "DELIVRD"))
	r, _, err := rs.Await(ctx, "a")
	if err != nil || r.Stat != "DELIVRD" {
		t.Fatalf("early: %v %v", r, err)
	}

	// Late: Await is waiting when the receipt comes.
	got := make(chan *client.Receipt)
	go func() {
		r, _, _ := rs.Await(ctx, "b")
		got <- r
	}()
	synctest.Wait() // the goroutine is blocked in Await
	rs.mu.Lock()
	_, waiting := rs.waiting["b"]
	rs.mu.Unlock()
	if !waiting {
		t.Fatal("Await is not waiting for b")
	}
	rs.OnDeliver(receipt("b", "UNDELIV"))
	if r := <-got; r.Stat != "UNDELIV" {
		t.Errorf("late: stat %s", r.Stat)
	}

	// Bounded: only the newest Keep early receipts are kept.
	for _, id := range []string{"x", "y", "z"} {
		rs.OnDeliver(receipt(id, "DELIVRD"))
	}
	rs.mu.Lock()
	_, hasX := rs.early["x"]
	n := len(rs.early)
	rs.mu.Unlock()
	if hasX || n != 2 {
		t.Errorf("early receipts kept: %d (x kept: %v), want the 2 newest", n, hasX)
	}

	// Cancelled: Await returns the context's error and forgets the id.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := rs.Await(cctx, "never"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	rs.mu.Lock()
	_, still := rs.waiting["never"]
	rs.mu.Unlock()
	if still {
		t.Error("cancelled waiter not forgotten")
	}

	// Not a receipt, or no id: ignored.
	if st := rs.OnDeliver(&client.Deliver{}); st != client.StatusOK {
		t.Errorf("MO: status %d", st)
	}
}

// TestReceiptsAwaitAll: the parts of a message are awaited together; the
// first failed part wins whatever its position, otherwise the last
// delivered receipt comes once every part has one; nothing comes once the
// context ends.
func TestReceiptsAwaitAll(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rs := NewReceipts()
		ctx := t.Context()

		// A failed second part, with no receipt for the first (receipts
		// for failures only), ends the wait. The caller then ends the
		// wait for p1, as Push does.
		pctx, pcancel := context.WithCancel(ctx)
		ch := rs.awaitAll(pctx, []string{"p1", "p2"})
		synctest.Wait()
		rs.OnDeliver(receipt("p2", "UNDELIV"))
		if rc := <-ch; rc == nil || rc.ID != "p2" || rc.Stat != "UNDELIV" {
			t.Errorf("failed part: %+v", rc)
		}
		pcancel()

		// Every part delivered, one of them before the wait began.
		rs.OnDeliver(receipt("q1", "DELIVRD"))
		ch = rs.awaitAll(ctx, []string{"q1", "q2"})
		synctest.Wait()
		select {
		case rc := <-ch:
			t.Fatalf("receipt %+v before every part was delivered", rc)
		default:
		}
		rs.OnDeliver(receipt("q2", "DELIVRD"))
		if rc := <-ch; rc == nil || !rc.Delivered() {
			t.Errorf("delivered: %+v", rc)
		}

		// The context ends: nothing is sent and no waiter is left behind.
		awaitCancelled(t, ctx, rs, "r1", "r2")

		// One part: its receipt, failed or delivered, early or not;
		// nothing and no waiter left once the context ends.
		ch = rs.awaitAll(ctx, []string{"s1"})
		synctest.Wait()
		rs.OnDeliver(receipt("s1", "UNDELIV"))
		if rc := <-ch; rc == nil || rc.ID != "s1" || rc.Stat != "UNDELIV" {
			t.Errorf("one failed part: %+v", rc)
		}
		rs.OnDeliver(receipt("t1", "DELIVRD"))
		if rc := <-rs.awaitAll(ctx, []string{"t1"}); rc == nil || rc.ID != "t1" || !rc.Delivered() {
			t.Errorf("one early delivered part: %+v", rc)
		}
		awaitCancelled(t, ctx, rs, "u1")
	})
}

// awaitCancelled awaits the receipts of ids, then ends the wait: nothing
// may come and no waiter may be left behind. It runs in a synctest bubble.
func awaitCancelled(t *testing.T, ctx context.Context, rs *Receipts, ids ...string) {
	t.Helper()
	cctx, cancel := context.WithCancel(ctx)
	ch := rs.awaitAll(cctx, ids)
	synctest.Wait()
	cancel()
	synctest.Wait()
	select {
	case rc := <-ch:
		t.Errorf("%v: receipt %+v after the context ended", ids, rc)
	default:
	}
	rs.mu.Lock()
	n := len(rs.waiting)
	rs.mu.Unlock()
	if n != 0 {
		t.Errorf("%v: %d waiters left", ids, n)
	}
}

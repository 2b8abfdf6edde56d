// Package smppload is a small SMPP load generator: N binds, each keeping a
// window of submit_sm in flight, measuring throughput and response latency.
// It measures simlab's SMSC and, with the same client, any other SMSC (the
// benchmark "beside a peer" of docs/benchmarks.md).
package smppload

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// Config describes a run.
type Config struct {
	Addr     string
	SystemID string
	Password string
	// Binds is the number of transceiver (or transmitter) connections.
	Binds int
	// Window is the number of submit_sm in flight per bind.
	Window int
	// Messages is the total to submit (split over the binds); Duration,
	// if set, stops the run earlier.
	Messages int
	Duration time.Duration
	// Receipts asks for a final receipt (registered_delivery 1) and waits
	// for every receipt, matching each to its message id.
	Receipts bool
	// Transmitter binds bind_transmitter instead of bind_transceiver.
	Transmitter bool
	// Dest is the destination address prefix; a per-message counter is
	// appended so destinations differ.
	Dest string
	// Text is the short message.
	Text string
}

// Result is a run's outcome.
type Result struct {
	Submitted  int64         `json:"submitted"`
	Errors     int64         `json:"errors"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	PerSecond  float64       `json:"per_second"`
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
	Receipts   int64         `json:"receipts"`
	Matched    int64         `json:"matched"`
	ReceiptsPS float64       `json:"receipts_per_second,omitempty"`
}

// String summarises the result.
func (r Result) String() string {
	s := fmt.Sprintf("%d submit_sm in %v: %.0f/s, p50 %v, p99 %v, max %v, errors %d",
		r.Submitted, r.Elapsed.Round(time.Millisecond), r.PerSecond, r.P50, r.P99, r.Max, r.Errors)
	if r.Receipts > 0 {
		s += fmt.Sprintf("; receipts %d (%d matched), %.0f/s", r.Receipts, r.Matched, r.ReceiptsPS)
	}
	return s
}

// Run binds, submits and reports. It fails if a bind fails.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Binds <= 0 {
		cfg.Binds = 4
	}
	if cfg.Window <= 0 {
		cfg.Window = 50
	}
	if cfg.Text == "" {
		cfg.Text = "load test message"
	}
	if cfg.Dest == "" {
		cfg.Dest = "9990"
	}
	conns := make([]*conn, cfg.Binds)
	ids := new(sync.Map)
	rcptTick := make(chan struct{}, 1)
	for i := range conns {
		c, err := dial(ctx, cfg, i, ids, rcptTick)
		if err != nil {
			for _, c := range conns[:i] {
				c.nc.Close()
			}
			return Result{}, err
		}
		conns[i] = c
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	start := time.Now()
	var wg sync.WaitGroup
	per := cfg.Messages / cfg.Binds
	for i, c := range conns {
		n := per
		if i == 0 {
			n += cfg.Messages % cfg.Binds
		}
		wg.Add(1)
		go func() { defer wg.Done(); c.submitAll(ctx, n) }()
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := Result{Elapsed: elapsed}
	hist := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	for _, c := range conns {
		res.Submitted += c.ok.Load()
		res.Errors += c.errs.Load()
		hist.Merge(c.hist)
	}
	res.PerSecond = float64(res.Submitted) / elapsed.Seconds()
	res.P50 = time.Duration(hist.ValueAtQuantile(50)) * time.Microsecond
	res.P99 = time.Duration(hist.ValueAtQuantile(99)) * time.Microsecond
	res.Max = time.Duration(hist.Max()) * time.Microsecond
	if cfg.Receipts {
		want := res.Submitted
		deadline := time.NewTimer(60 * time.Second)
		defer deadline.Stop()
	wait:
		for {
			var got int64
			for _, c := range conns {
				got += c.rcpts.Load()
			}
			if got >= want {
				break
			}
			select {
			case <-ctx.Done():
				break wait
			case <-deadline.C:
				break wait
			case <-rcptTick:
			}
		}
		relapsed := time.Since(start)
		for _, c := range conns {
			res.Receipts += c.rcpts.Load()
			res.Matched += c.matched.Load()
		}
		res.ReceiptsPS = float64(res.Receipts) / relapsed.Seconds()
	}
	for _, c := range conns {
		c.unbind()
	}
	return res, nil
}

type conn struct {
	cfg  Config
	nc   net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex
	bw   *bufio.Writer
	win  chan struct{}
	seq  uint32
	sent []atomic.Int64 // send time by seq % len
	ids  *sync.Map      // message id -> struct{}, shared: a receipt may come on any bind
	hist *hdrhistogram.Histogram
	hmu  sync.Mutex

	ok, errs, rcpts, matched atomic.Int64
	rcptTick                 chan struct{} // shared by the binds: a receipt arrived
	dead                     chan struct{} // closed when the reader ends
	idx                      int
}

func dial(ctx context.Context, cfg Config, idx int, ids *sync.Map, rcptTick chan struct{}) (*conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	c := &conn{cfg: cfg, nc: nc, br: bufio.NewReaderSize(nc, 64<<10), bw: bufio.NewWriterSize(nc, 64<<10),
		win: make(chan struct{}, cfg.Window), sent: make([]atomic.Int64, 1<<16),
		hist: hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3), rcptTick: rcptTick,
		dead: make(chan struct{}), idx: idx, ids: ids}
	id := pdu.CmdBindTransceiver
	if cfg.Transmitter {
		id = pdu.CmdBindTransmitter
	}
	b := pdu.Bind{SystemID: []byte(cfg.SystemID), Password: []byte(cfg.Password), InterfaceVersion: 0x34}
	if _, err := nc.Write(pdu.Append(nil, id, 0, 1, &b)); err != nil {
		nc.Close()
		return nil, err
	}
	h, _, err := c.readPDU(nil)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("smppload: bind: %w", err)
	}
	if h.ID != id.Response() || h.Status != pdu.StatusOK {
		nc.Close()
		return nil, fmt.Errorf("smppload: bind refused: %v %v", h.ID, h.Status)
	}
	c.seq = 1
	go c.readLoop()
	return c, nil
}

// readPDU reads one PDU, its body into buf's storage when it fits (the
// body is valid until the next call).
func (c *conn) readPDU(buf []byte) (pdu.Header, []byte, error) {
	var hb [pdu.HeaderLen]byte
	if _, err := io.ReadFull(c.br, hb[:]); err != nil {
		return pdu.Header{}, nil, err
	}
	h, _ := pdu.DecodeHeader(hb[:])
	if h.Length < pdu.HeaderLen || h.Length > 1<<20 {
		return h, nil, fmt.Errorf("smppload: bad command_length %d", h.Length)
	}
	n := int(h.Length - pdu.HeaderLen)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	body := buf[:n]
	_, err := io.ReadFull(c.br, body)
	return h, body, err
}

func (c *conn) readLoop() {
	var dsm pdu.DeliverSM
	var resp pdu.MessageIDResp
	var out, body []byte
	for {
		h, b, err := c.readPDU(body)
		if err != nil {
			close(c.dead)
			return
		}
		body = b
		switch h.ID {
		case pdu.CmdSubmitSMResp:
			t0 := c.sent[h.Seq%uint32(len(c.sent))].Load()
			lat := time.Duration(time.Now().UnixNano() - t0)
			c.hmu.Lock()
			c.hist.RecordValue(int64(lat / time.Microsecond))
			c.hmu.Unlock()
			if h.Status == pdu.StatusOK {
				c.ok.Add(1)
				if c.cfg.Receipts && resp.Unmarshal(body) == nil {
					id := string(resp.MessageID)
					if _, loaded := c.ids.LoadOrStore(id, struct{}{}); loaded {
						// The receipt came first.
						c.ids.Delete(id)
						c.matched.Add(1)
					}
				}
			} else {
				c.errs.Add(1)
			}
			<-c.win
		case pdu.CmdDeliverSM:
			if dsm.Unmarshal(body) == nil && dsm.ESMClass&0x04 != 0 {
				c.rcpts.Add(1)
				if id, ok := dsm.TLVs.CString(pdu.TagReceiptedMessageID); ok {
					k := string(id)
					if _, loaded := c.ids.LoadOrStore(k, struct{}{}); loaded {
						c.ids.Delete(k)
						c.matched.Add(1)
					}
				}
				select {
				case c.rcptTick <- struct{}{}:
				default:
				}
			}
			out = pdu.AppendHeader(out[:0], pdu.Header{ID: pdu.CmdDeliverSMResp, Seq: h.Seq})
			out = append(out, 0)
			pdu.SetLength(out, 0)
			c.wmu.Lock()
			c.bw.Write(out) // flushed below, once per burst
			c.wmu.Unlock()
		case pdu.CmdEnquireLink:
			out = pdu.AppendHeader(out[:0], pdu.Header{ID: pdu.CmdEnquireLinkResp, Seq: h.Seq})
			pdu.SetLength(out, 0)
			c.wmu.Lock()
			c.bw.Write(out)
			c.wmu.Unlock()
		case pdu.CmdUnbindResp, pdu.CmdGenericNack:
		}
		if !c.completeBuffered() {
			// End of a burst: send the answers queued meanwhile.
			c.wmu.Lock()
			if c.bw.Buffered() > 0 {
				c.bw.Flush()
			}
			c.wmu.Unlock()
		}
	}
}

// submitAll sends n submit_sm keeping the window full; it flushes whenever
// the window is full, so writes are batched.
func (c *conn) submitAll(ctx context.Context, n int) {
	sm := pdu.SubmitSM{
		Source:       pdu.Addr{TON: 5, Addr: []byte("SimLoad")},
		Dest:         pdu.Addr{TON: 1, NPI: 1},
		ShortMessage: []byte(c.cfg.Text),
	}
	if c.cfg.Receipts {
		sm.RegisteredDelivery = 1
	}
	dest := make([]byte, 0, 24)
	buf := make([]byte, 0, 256)
	for i := 0; i < n; i++ {
		if !c.acquire(ctx) {
			break
		}
		c.seq++
		dest = append(append(dest[:0], c.cfg.Dest...), byte('0'+c.idx%10))
		dest = strconv.AppendInt(dest, int64(1e7+i), 10)
		sm.Dest.Addr = dest
		buf = pdu.AppendHeader(buf[:0], pdu.Header{ID: pdu.CmdSubmitSM, Seq: c.seq})
		buf = sm.AppendBody(buf)
		pdu.SetLength(buf, 0)
		c.sent[c.seq%uint32(len(c.sent))].Store(time.Now().UnixNano())
		c.wmu.Lock()
		_, err := c.bw.Write(buf)
		c.wmu.Unlock()
		if err != nil {
			break
		}
	}
	// Owning every window slot means every response has arrived; give a
	// silent server 30 s.
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for k := 0; k < cap(c.win); k++ {
		if !c.acquire(wctx) {
			return
		}
	}
}

// acquire takes a window slot, flushing queued submits first when none is
// free; false when the connection died or ctx ended.
func (c *conn) acquire(ctx context.Context) bool {
	select {
	case c.win <- struct{}{}:
		return true
	default:
	}
	c.wmu.Lock()
	c.bw.Flush()
	c.wmu.Unlock()
	select {
	case c.win <- struct{}{}:
		return true
	case <-c.dead:
		return false
	case <-ctx.Done():
		return false
	}
}

func (c *conn) unbind() {
	out := pdu.AppendHeader(nil, pdu.Header{ID: pdu.CmdUnbind, Seq: 0x7F000001})
	pdu.SetLength(out, 0)
	c.wmu.Lock()
	c.bw.Write(out)
	c.bw.Flush()
	c.wmu.Unlock()
	select {
	case <-c.dead:
	case <-time.After(2 * time.Second):
	}
	c.nc.Close()
}

// completeBuffered reports whether a whole PDU is already buffered.
func (c *conn) completeBuffered() bool {
	n := c.br.Buffered()
	if n < pdu.HeaderLen {
		return false
	}
	b, _ := c.br.Peek(4)
	return n >= int(binary.BigEndian.Uint32(b))
}

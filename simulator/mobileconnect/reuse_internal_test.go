package mobileconnect

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestHoldTimerFiresAfterReuse: a hold's timer whose value the hold took
// is put back, and the next hold that gets it waits its own duration and
// then ends: the timer was reset, neither dead nor firing at once.
func TestHoldTimerFiresAfterReuse(t *testing.T) {
	guard := time.NewTimer(time.Minute) // a failure's bound, not a wait
	defer guard.Stop()
	for i := range 20 {
		tm := holdTimer(time.Microsecond)
		select {
		case <-tm.C:
		case <-guard.C:
			t.Fatalf("round %d: a reused hold timer never fired", i)
		}
		releaseHoldTimer(tm, true)
		nextHoldWaits(t, i)
	}
}

// nextHoldWaits fails when the next hold's timer (an hour) has a value
// at once: a stale one of the timer's last use.
func nextHoldWaits(t *testing.T, round int) {
	t.Helper()
	tm := holdTimer(time.Hour)
	defer releaseHoldTimer(tm, false)
	select {
	case <-tm.C:
		t.Fatalf("round %d: a reused hold timer fired at once", round)
	default:
	}
}

// TestHoldTimerReusedWhenStopped: a hold that ends before its timer has
// fired puts the timer back, and a later hold gets that same timer (the
// pool drops some puts at random under -race, so within a few tries).
func TestHoldTimerReusedWhenStopped(t *testing.T) {
	for range 100 {
		tm := holdTimer(time.Hour)
		releaseHoldTimer(tm, false)
		again := holdTimer(time.Hour)
		releaseHoldTimer(again, false)
		if again == tm {
			return
		}
	}
	t.Fatal("a stopped hold timer was never handed out again")
}

// holdTimerChild marks the run of TestHoldTimerAsyncChan in a child
// process with GODEBUG=asynctimerchan=1.
const holdTimerChild = "SIMLAB_MC_HOLDTIMER_CHILD"

// TestHoldTimerAsyncChan: with Go's buffered timer channels of before
// 1.23 (GODEBUG=asynctimerchan=1, a child process of this test binary), a
// timer that fired while its hold ended another way still holds its
// value after Stop; it is not put back, so no later hold ends at once on
// that stale value.
func TestHoldTimerAsyncChan(t *testing.T) {
	if os.Getenv(holdTimerChild) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHoldTimerAsyncChan$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), holdTimerChild+"=1", "GODEBUG=asynctimerchan=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestHoldTimerAsyncChan") {
			t.Fatalf("the child with asynctimerchan=1: %v\n%s", err, out)
		}
		return
	}
	deadline := time.Now().Add(time.Minute)
	for i := range 20 {
		tm := holdTimer(time.Microsecond)
		// Fired and not received: only a buffered channel shows its
		// value in len, so this also proves the GODEBUG took.
		for len(tm.C) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the timer's channel never held a value (not asynctimerchan=1?)", i)
			}
			runtime.Gosched()
		}
		releaseHoldTimer(tm, false)
		nextHoldWaits(t, i)
	}
}

// TestPutBufferKeepsNoLargeBuffer: a buffer grown past maxPooledBuffer is
// not put back (it is never handed out again), while a small one is.
func TestPutBufferKeepsNoLargeBuffer(t *testing.T) {
	small := false
	for range 100 {
		b := getBuffer()
		b.Grow(4 * maxPooledBuffer)
		putBuffer(b)
		if again := getBuffer(); again == b {
			t.Fatalf("a buffer of %d bytes went back into the pool", b.Cap())
		}
		s := getBuffer()
		s.WriteString("{}")
		putBuffer(s)
		again := getBuffer()
		if again == s {
			small = true
			if again.Len() != 0 {
				t.Fatalf("a pooled buffer came back holding %q", again.Bytes())
			}
		}
		putBuffer(again)
	}
	if !small {
		t.Fatal("a small buffer was never handed out again")
	}
}

// FuzzAppendClaims: a whole claim set made of any strings (invalid UTF-8
// included, in every member and in displayed_data), any numbers and any
// choice of omitted members is encoded as json.Marshal encodes it.
func FuzzAppendClaims(f *testing.F) {
	f.Add("iss|aud|azp|sub|3|SIM_PIN,OTP|jti|n|h|hh|RP|msg|ctx|dts|rcpt|ciba", int64(1733580000), int64(-1), int64(0), uint16(0xffff))
	f.Add("<a>&|\u2028\u2029|\xff\xfe|\x00\x1f\x7f|\"\\|||||é€😀|", int64(-1<<63), int64(1<<63-1), int64(42), uint16(0))
	f.Add("", int64(0), int64(0), int64(0), uint16(0x5555))
	f.Fuzz(func(t *testing.T, s string, n1, n2, n3 int64, flags uint16) {
		parts := strings.Split(s, "|")
		part := func(i int) string {
			if i < len(parts) {
				return parts[i]
			}
			return ""
		}
		on := func(bit uint) bool { return flags&(1<<bit) != 0 }
		c := idClaims{Iss: part(0), Aud: part(1), Azp: part(2), Sub: part(3), ACR: part(4),
			AuthTime: n1, Iat: n2, Exp: n3, JTI: part(6), Nonce: part(7), AtHash: part(8), HashedHint: part(9),
			DTS: part(13), Recipient: part(14), CIBAAuthReqID: part(15)}
		switch {
		case on(0):
			c.AMR = strings.Split(part(5), ",")
		case on(1):
			c.AMR = []string{}
		}
		if on(2) {
			c.DisplayedData = &displayedData{ClientName: part(10), BindingMessage: part(11), Context: part(12)}
		}
		if on(3) {
			c.dtsTime = n1 ^ n3
			c.DTSTime = &c.dtsTime
		}
		if on(4) {
			c.UPK = json.RawMessage(`{"use":"sig","kty":"EC","crv":"P-256","alg":"ES256","x":"AQ","y":"Ag"}`)
		}
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendClaims(nil, &c); string(got) != string(want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

// TestAppendClaimsRealUPK: the upk ecJWK writes for real keys is what
// appendClaims copies as it is, so the claim set is still json.Marshal's
// (which compacts and escapes a RawMessage).
func TestAppendClaimsRealUPK(t *testing.T) {
	for range 20 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c := idClaims{Iss: "https://mc.example", Aud: "rp", Azp: "rp", Sub: "s", AMR: []string{AMRSIMPIN}, JTI: "j",
			UPK: ecJWK(&k.PublicKey)}
		if len(c.UPK) == 0 {
			t.Fatal("no upk for a P-256 key")
		}
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendClaims(nil, &c); string(got) != string(want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	}
}

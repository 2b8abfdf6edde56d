package push

import (
	"bytes"
	"testing"

	"github.com/simlab-dev/simlab/applet/ota"
)

// TestJoinAnswerParts: a response packet cut into concatenated parts
// (ota.Segments, IEI 71) is joined in any order, a repeated part ignored,
// and the parts waiting are bounded by answerLimits.
func TestJoinAnswerParts(t *testing.T) {
	pkt := bytes.Repeat([]byte{0x5A}, 300)
	segs, err := ota.Segments(ota.IEIResponsePacket, pkt, 9)
	if err != nil || len(segs) != 3 {
		t.Fatalf("%d segments, %v", len(segs), err)
	}
	p := &Pusher{parts: newAnswerParts()}
	var got []byte
	for _, i := range []int{2, 2, 0, 1} {
		u, err := ota.UDHOf(segs[i].Header)
		if err != nil {
			t.Fatal(err)
		}
		if out := p.join("99901000042", u, segs[i].Data); out != nil {
			if got != nil {
				t.Fatal("joined twice")
			}
			got = out
		}
	}
	if !bytes.Equal(got, append([]byte{0x02, 0x71, 0x00}, pkt...)) {
		t.Fatalf("joined % x", got)
	}
	// Parts of answers that never complete: at most answerLimits.MaxPending
	// wait, the oldest given up.
	u, _ := ota.UDHOf(segs[0].Header)
	for i := range answerLimits.MaxPending + 10 {
		u.Ref = uint16(i)
		p.join("99901000042", u, segs[0].Data)
	}
	if n, b := p.parts.Pending(); n != answerLimits.MaxPending || b > answerLimits.MaxPendingBytes {
		t.Errorf("%d answers, %d bytes pending", n, b)
	}
}

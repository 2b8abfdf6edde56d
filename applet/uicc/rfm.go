package uicc

import (
	"context"

	"github.com/simlab-dev/simlab/applet/apdu"
)

// RFMName is the profile name of the built-in remote file management applet.
const RFMName = "rfm"

// rfm is a minimal Remote File Management application (ETSI TS 102 226
// §5): the secured data of an OTA command packet is a list of command APDUs
// in the compact format (§5.1.1: CLA INS P1 P2 P3 [data], P3 being Le for
// the case-2 instructions READ BINARY, READ RECORD, GET RESPONSE, STATUS,
// and Lc otherwise). They run on the card's file system in a file context
// of their own, starting at the MF, with ADM access (the OTA keyset
// authenticated the sender). Execution stops at the first status word that
// is not a normal ending. The PoR data is the compact response (§5.1.2):
// number of commands executed, status word and data of the last one.
type rfm struct{}

func (r *rfm) Resume(ctx context.Context, env *Env, tr []byte) (Step, error) {
	return Step{}, nil
}

func (r *rfm) Process(ctx context.Context, req *Request) (Step, error) {
	if req.Kind != KindOTA {
		return Step{SW: apdu.SWINSNotSupported}, nil
	}
	c := req.Env.card
	saved := c.vol
	c.vol = volatile{selection: selection{df: c.mf}, admOK: true}
	c.depth++
	defer func() {
		c.depth--
		c.vol = saved
	}()
	var (
		count int
		last  []byte
		buf   []byte
	)
	d := req.Data
	for len(d) >= 5 {
		n := 5
		switch d[1] {
		case apdu.INSReadBinary, apdu.INSReadRecord, apdu.INSGetResponse, apdu.INSStatus:
		default:
			n += int(d[4])
		}
		if n > len(d) {
			break
		}
		buf = c.exec(ctx, d[:n], buf[:0])
		d = d[n:]
		count++
		last = buf
		if sw := apdu.SW(buf[len(buf)-2])<<8 | apdu.SW(buf[len(buf)-1]); !sw.OK() {
			break
		}
	}
	if count == 0 {
		return Step{Data: []byte{0}}, nil
	}
	out := make([]byte, 0, 1+len(last))
	out = append(out, byte(count))
	out = append(out, last[len(last)-2:]...)
	out = append(out, last[:len(last)-2]...)
	return Step{Data: out}, nil
}

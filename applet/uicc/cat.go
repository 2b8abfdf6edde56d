package uicc

import (
	"context"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/tlv"
)

// session is the proactive session in progress (ETSI TS 102 221 §7.4.2,
// TS 102 223 §6.2): at most one proactive command waits to be fetched or
// answered at a time.
type session struct {
	owner   *installed  // applet running the session; nil for the card's own command
	cmd     []byte      // pending proactive command; nil when no session
	fetched bool        // cmd was fetched, a TERMINAL RESPONSE is awaited
	ota     *otaRequest // the OTA request the session serves, if any
}

func (c *Card) env(ctx context.Context, inst *installed, req *otaRequest) *Env {
	return &Env{card: c, inst: inst, ota: req, ctx: ctx}
}

// applyStep installs the next proactive command of a Step, or ends the
// session and finishes the OTA request it served. It returns the status word
// for the command that triggered the step.
func (c *Card) applyStep(ctx context.Context, inst *installed, st Step, req *otaRequest) apdu.SW {
	if st.Proactive != nil {
		obj, rest, err := tlv.ParseBER(st.Proactive)
		if err != nil || obj.Tag != tlv.TagProactive || len(rest) != 0 {
			c.vol.sess = session{}
			return apdu.SWTechnicalProblem
		}
		c.vol.sess = session{owner: inst, cmd: append(c.vol.sess.cmd[:0:0], st.Proactive...), ota: req}
		return apdu.SWOK
	}
	c.vol.sess = session{}
	if req != nil {
		c.finishOTA(ctx, req, st.Data, false)
	}
	return apdu.SWOK
}

// terminalProfile serves TERMINAL PROFILE (TS 102 221 §11.2.1): the
// profile is stored and handed to applets that watch for it.
func (c *Card) terminalProfile(ctx context.Context, cmd *apdu.Command) ([]byte, apdu.SW) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, apdu.SWIncorrectP1P2
	}
	if len(cmd.Data) == 0 || cmd.Ne != 0 {
		return nil, apdu.SWWrongLength
	}
	if c.depth > 0 {
		return nil, apdu.SWConditionsOfUse
	}
	c.termProfile = append(c.termProfile[:0], cmd.Data...)
	for _, inst := range c.applets {
		if c.vol.sess.cmd != nil {
			break
		}
		w, ok := inst.applet.(ProfileWatcher)
		if !ok || !w.WatchesTerminalProfile() {
			continue
		}
		req := &Request{Kind: KindTerminalProfile, Data: c.termProfile, Env: c.env(ctx, inst, nil)}
		st, err := inst.applet.Process(ctx, req)
		if err != nil {
			continue // an applet's failure must not fail the terminal's profile download
		}
		c.applyStep(ctx, inst, st, nil)
	}
	return nil, apdu.SWOK
}

// envelope serves ENVELOPE (TS 102 221 §11.2.2, TS 102 223 §7): SMS-PP
// download goes to the OTA layer, other templates to the applets that accept
// them.
func (c *Card) envelope(ctx context.Context, cmd *apdu.Command) ([]byte, apdu.SW) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, apdu.SWIncorrectP1P2
	}
	if len(cmd.Data) == 0 {
		return nil, apdu.SWWrongLength
	}
	if c.depth > 0 {
		return nil, apdu.SWConditionsOfUse
	}
	d := skipPadding(cmd.Data)
	obj, _, err := tlv.ParseBER(d)
	if err != nil || obj.Tag < 0xD1 || obj.Tag > 0xDF {
		return nil, apdu.SWIncorrectData
	}
	busy := c.vol.sess.cmd != nil
	if obj.Tag == tlv.TagSMSPPDownload {
		if busy {
			return nil, apdu.SWToolkitBusy
		}
		return c.smsPP(ctx, obj)
	}
	for _, inst := range c.applets {
		f, ok := inst.applet.(EnvelopeFilter)
		if !ok || !f.AcceptsEnvelope(byte(obj.Tag)) {
			continue
		}
		if busy {
			return nil, apdu.SWToolkitBusy
		}
		req := &Request{Kind: KindEnvelope, Data: d[:obj.Len()], Env: c.env(ctx, inst, nil)}
		st, err := inst.applet.Process(ctx, req)
		if err != nil {
			return nil, apdu.SWTechnicalProblem
		}
		data := append(c.scratch[:0], st.Data...)
		return data, c.applyStep(ctx, inst, Step{Proactive: st.Proactive}, nil)
	}
	return nil, apdu.SWOK
}

func skipPadding(b []byte) []byte {
	for len(b) > 0 && (b[0] == 0x00 || b[0] == 0xFF) {
		b = b[1:]
	}
	return b
}

// fetch serves FETCH (TS 102 221 §11.2.3).
func (c *Card) fetch(cmd *apdu.Command) ([]byte, apdu.SW) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, apdu.SWIncorrectP1P2
	}
	if len(cmd.Data) != 0 || cmd.Ne == 0 {
		return nil, apdu.SWWrongLength
	}
	p := c.vol.sess.cmd
	if p == nil {
		return nil, apdu.SWConditionsOfUse
	}
	if cmd.Ne != len(p) && cmd.Ne != 256 && cmd.Ne != 65536 {
		return nil, apdu.WrongLe(len(p))
	}
	c.vol.sess.fetched = true
	return append(c.scratch[:0], p...), apdu.SWOK
}

// terminalResponse serves TERMINAL RESPONSE (TS 102 221 §11.2.4): the
// answer goes to the applet running the session, whose next Step decides
// whether another proactive command follows.
func (c *Card) terminalResponse(ctx context.Context, cmd *apdu.Command) ([]byte, apdu.SW) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, apdu.SWIncorrectP1P2
	}
	if len(cmd.Data) == 0 || cmd.Ne != 0 {
		return nil, apdu.SWWrongLength
	}
	s := c.vol.sess
	if s.cmd == nil || !s.fetched {
		return nil, apdu.SWConditionsOfUse
	}
	if s.owner == nil { // the card's own command (PoR by SEND SHORT MESSAGE): done
		c.vol.sess = session{}
		return nil, apdu.SWOK
	}
	st, err := s.owner.applet.Resume(ctx, c.env(ctx, s.owner, s.ota), cmd.Data)
	if err != nil {
		c.vol.sess = session{}
		return nil, apdu.SWTechnicalProblem
	}
	return nil, c.applyStep(ctx, s.owner, st, s.ota)
}

// selectApplet makes inst the selected application (SELECT by AID).
func (c *Card) selectApplet(ctx context.Context, inst *installed, cmd *apdu.Command) ([]byte, apdu.SW) {
	c.vol.ef, c.vol.rec = nil, 0
	c.vol.selected = inst
	st, err := inst.applet.Process(ctx, &Request{Kind: KindSelect, Data: cmd.Data, APDU: *cmd, Env: c.env(ctx, inst, nil)})
	if err != nil {
		c.vol.selected = nil
		return nil, apdu.SWTechnicalProblem
	}
	sw := st.SW
	if sw == 0 {
		sw = apdu.SWOK
	}
	if !sw.OK() {
		c.vol.selected = nil
		return nil, sw
	}
	if cmd.P2&0x0C == 0x0C {
		return nil, sw
	}
	return append(c.scratch[:0], st.Data...), sw
}

// appletAPDU hands a command to the selected applet.
func (c *Card) appletAPDU(ctx context.Context, inst *installed, cmd *apdu.Command) ([]byte, apdu.SW) {
	st, err := inst.applet.Process(ctx, &Request{Kind: KindAPDU, Data: cmd.Data, APDU: *cmd, Env: c.env(ctx, inst, nil)})
	if err != nil {
		return nil, apdu.SWTechnicalProblem
	}
	data := append(c.scratch[:0], st.Data...)
	sw := st.SW
	if sw == 0 {
		sw = apdu.SWOK
	}
	if st.Proactive != nil {
		if c.vol.sess.cmd != nil {
			return data, apdu.SWToolkitBusy
		}
		if s := c.applyStep(ctx, inst, Step{Proactive: st.Proactive}, nil); s != apdu.SWOK {
			return nil, s
		}
	}
	return data, sw
}

package uicc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/applet/tlv"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// keysetState is a profile keyset with the card's current replay counter.
type keysetState struct {
	Keyset
	counter ota.Counter
	keys    ota.Keys // the key references resolved for this card, once
}

// otaRequest is an opened OTA command packet being served.
type otaRequest struct {
	header  ota.CommandHeader
	counter ota.Counter
	keys    ota.Keys
	oa      []byte // TP-OA of the SMS-DELIVER, as received (length, TOA, digits)
	sealed  bool   // the applet sealed its own response (Env.SealResponse)
}

// ErrNoOTA is returned by Env.SealResponse outside an OTA request.
var ErrNoOTA = errors.New("uicc: not serving an OTA request")

// SealResponse seals data into a response packet (PoR with status OK, ETSI
// TS 102 225 §5.2, UDH 02 71 00 first) for the OTA request being served,
// with the security its SPI2 asks for. An applet that sends its answer
// itself (in its own SEND SHORT MESSAGE) uses it; the card then sends no PoR
// of its own at the end of the session.
func (e *Env) SealResponse(data []byte) ([]byte, error) {
	if e.ota == nil {
		return nil, ErrNoOTA
	}
	e.ota.sealed = true
	return ota.SealResponse(e.ctx, e.card.ks, e.ota.keys, e.ota.header, e.ota.counter, ota.StatusOK, data)
}

// keysetFor returns the keyset a command header addresses: by the KID's key
// index when the packet has an RC/CC, otherwise by the KIc's.
func (c *Card) keysetFor(h ota.CommandHeader) *keysetState {
	kvn := h.KID.Index()
	if h.SPI.Integrity == ota.IntegrityNone || kvn == 0 {
		kvn = h.KIc.Index()
	}
	for i := range c.keysets {
		if c.keysets[i].KVN == kvn {
			return &c.keysets[i]
		}
	}
	return nil
}

func (c *Card) keysOf(ks *keysetState) ota.Keys {
	if ks == nil {
		return ota.Keys{}
	}
	return ks.keys
}

// keysOf resolves keyset k's key references for this card ({iccid}
// replaced) and their algorithms; a card does it once, when built.
func (p *Profile) keysOf(k Keyset) ota.Keys {
	var keys ota.Keys
	if k.KIc.Ref != "" {
		keys.KIc = p.keyRef(k.KIc)
		keys.KIcAlg, _ = ota.ParseAlgorithm(k.KIc.Algorithm)
	}
	if k.KID.Ref != "" {
		keys.KID = p.keyRef(k.KID)
		keys.KIDAlg, _ = ota.ParseAlgorithm(k.KID.Algorithm)
	}
	return keys
}

// byTAR returns the applet and TAR entry for tar.
func (c *Card) byTAR(tar ota.TAR) (*installed, *TARProfile) {
	for _, inst := range c.applets {
		for i := range inst.prof.TARs {
			if string(inst.prof.TARs[i].TAR) == string(tar[:]) {
				return inst, &inst.prof.TARs[i]
			}
		}
	}
	return nil, nil
}

// Resolve implements ota.Resolver for the card's profile: the TAR must be one
// of an applet's TARs, and the keyset one the TAR allows.
func (c *Card) resolve(tar ota.TAR, kic ota.KIc, kid ota.KID) (ota.Keyset, error) {
	_, tp := c.byTAR(tar)
	if tp == nil {
		return ota.Keyset{}, fmt.Errorf("uicc: TAR %v: %w", tar, ota.ErrTARUnknown)
	}
	var msl ota.MSL
	if len(tp.MSL) == 1 {
		msl = ota.ParseMSL(tp.MSL[0])
	}
	h := ota.CommandHeader{KIc: kic, KID: kid, SPI: ota.SPI{Integrity: ota.IntegrityCC}}
	if kid.Index() == 0 {
		h.SPI.Integrity = ota.IntegrityNone
	}
	ks := c.keysetFor(h)
	if ks == nil {
		return ota.Keyset{MSL: msl}, nil
	}
	if len(tp.Keysets) > 0 && !slices.Contains(tp.Keysets, ks.KVN) {
		return ota.Keyset{}, fmt.Errorf("uicc: keyset %d may not address TAR %v: %w", ks.KVN, tar, ota.ErrSecurityLevel)
	}
	return ota.Keyset{Keys: c.keysOf(ks), MSL: msl, Counter: ks.counter}, nil
}

// smsPP serves ENVELOPE(SMS-PP download) (ETSI TS 102 223 §7.1.1, 3GPP TS
// 31.111 §7.1.1): the SMS-DELIVER's user data is (a segment of) a secured
// command packet (TS 31.115 §4.2) that is reassembled, opened and handed to
// the applet owning its TAR.
func (c *Card) smsPP(ctx context.Context, obj tlv.BER) ([]byte, apdu.SW) {
	objs, err := tlv.ParseAllBER(c.tlvs[:0], obj.Value)
	c.tlvs = objs[:0]
	if err != nil {
		return nil, apdu.SWIncorrectData
	}
	var raw []byte
	for _, o := range objs {
		if o.Tag&0x7F == 0x0B { // SMS TPDU (TS 102 223 §8.13), CR bit either way
			raw = o.Value
		}
	}
	if len(raw) == 0 {
		return nil, apdu.SWIncorrectData
	}
	// The TP-OA filler nibble of an odd-length address may hold a digit
	// (onomondo-uicc's tests/envelope); tpdu.Parse ignores it (TS 23.040 §9.1.2.3).
	m, err := tpdu.Parse(raw, tpdu.MT)
	t, ok := m.(*tpdu.Deliver)
	if err != nil || !ok {
		return nil, apdu.SWIncorrectData
	}
	if !t.UD.HasHeader {
		return nil, apdu.SWOK // not a secured packet: nothing for the card to do
	}
	if len(t.UD.Header) == 0 {
		return nil, apdu.SWTechnicalProblem
	}
	// The user data as the reassembler wants it: header (re-encoded from
	// the parsed elements, UDHL first) then the data.
	ud, err := tpdu.AppendHeader(c.tmp[:0], t.UD.Header)
	if err != nil {
		return nil, apdu.SWIncorrectData
	}
	ud = append(ud, t.UD.Data...)
	c.tmp = ud[:0]
	oa := raw[1 : 1+2+(int(raw[1])+1)/2] // checked by tpdu.Parse
	originator := t.OA.String()
	pkt, err := c.reasm.Add(c.now(), originator, ud)
	switch {
	case errors.Is(err, ota.ErrNotCommandPacket):
		return nil, apdu.SWOK
	case err != nil:
		return nil, apdu.SWIncorrectData
	case pkt == nil: // more segments to come
		return nil, apdu.SWOK
	}
	if c.ks == nil {
		return nil, apdu.SWTechnicalProblem
	}
	cmd, err := ota.OpenCommand(ctx, c.ks, ota.ResolverFunc(c.resolve), pkt)
	if err != nil {
		return c.otaError(ctx, err)
	}
	ks := c.keysetFor(cmd.CommandHeader)
	if cmd.StoreCounter && ks != nil {
		ks.counter = cmd.Counter
	}
	req := &otaRequest{header: cmd.CommandHeader, counter: cmd.Counter, keys: c.keysOf(ks), oa: append([]byte(nil), oa...)}
	inst, _ := c.byTAR(cmd.TAR)
	if inst == nil || inst.applet == nil {
		return c.por(ctx, req, ota.StatusTARUnknown, nil, apdu.SWWarning)
	}
	st, err := inst.applet.Process(ctx, &Request{Kind: KindOTA, Data: cmd.Data, TAR: cmd.TAR, Originator: originator, OA: t.OA, Env: c.env(ctx, inst, req)})
	if err != nil {
		return nil, apdu.SWTechnicalProblem
	}
	if st.Proactive != nil {
		if sw := c.applyStep(ctx, inst, st, req); sw != apdu.SWOK {
			return nil, sw
		}
		if req.header.SPI.PoRSubmit {
			return c.por(ctx, req, ota.StatusResponseInSubmit, nil, apdu.SWOK)
		}
		// The answer is not ready while the deliver report must go now:
		// status 08, more time needed (TS 102 225 §5.2.2).
		return c.por(ctx, req, ota.StatusMoreTime, nil, apdu.SWOK)
	}
	return c.finishOTA(ctx, req, st.Data, true)
}

// otaError answers a command packet OpenCommand refused: a PoR with the
// error status when the SPI asks for one (TS 102 225 §5.2.2), as a data
// download error (62xx, TS 31.111 §7.1.1.2).
func (c *Card) otaError(ctx context.Context, err error) ([]byte, apdu.SW) {
	var se *ota.StatusError
	if !errors.As(err, &se) || !se.HeaderValid {
		return nil, apdu.SWWarning
	}
	h := se.ResponseHeader()
	req := &otaRequest{header: h}
	if se.CounterValid {
		req.counter = se.Counter
	}
	if h.SPI.Integrity != ota.IntegrityNone || h.SPI.PoRIntegrity != ota.IntegrityNone || h.SPI.PoRCiphered {
		req.keys = c.keysOf(c.keysetFor(se.Header))
	}
	return c.por(ctx, req, se.Status, nil, apdu.SWWarning)
}

// por returns the PoR with status st for the ENVELOPE response when the SPI
// wants one, with status word sw.
func (c *Card) por(ctx context.Context, req *otaRequest, st ota.Status, data []byte, sw apdu.SW) ([]byte, apdu.SW) {
	if !req.header.SPI.WantsPoR(st) {
		return nil, sw
	}
	p, err := ota.AppendResponse(ctx, c.scratch[:0], c.ks, req.keys, req.header, req.counter, st, data)
	if err != nil {
		return nil, apdu.SWTechnicalProblem
	}
	return p, sw
}

// finishOTA delivers the applet's response data as the PoR (TS 31.115
// §4.4): in the ENVELOPE response (SMS-DELIVER-REPORT) when inEnvelope and
// SPI2 says so; by a SEND SHORT MESSAGE proactive command when SPI2 asks
// for SMS-SUBMIT (the ENVELOPE then answers with status 0B).
func (c *Card) finishOTA(ctx context.Context, req *otaRequest, data []byte, inEnvelope bool) ([]byte, apdu.SW) {
	if req.sealed || !req.header.SPI.WantsPoR(ota.StatusOK) {
		return nil, apdu.SWOK
	}
	if !req.header.SPI.PoRSubmit {
		if !inEnvelope {
			return nil, apdu.SWOK // the deliver report has gone: nothing can carry it now
		}
		return c.por(ctx, req, ota.StatusOK, data, apdu.SWOK)
	}
	p, err := ota.SealResponse(ctx, c.ks, req.keys, req.header, req.counter, ota.StatusOK, data)
	if err != nil || len(p) > ota.MaxUserData {
		return nil, apdu.SWTechnicalProblem
	}
	c.vol.sess = session{cmd: sendSM(req.oa, p), ota: req}
	if inEnvelope {
		return c.por(ctx, req, ota.StatusResponseInSubmit, nil, apdu.SWOK)
	}
	return nil, apdu.SWOK
}

// sendSM encodes the card's own SEND SHORT MESSAGE proactive command (ETSI
// TS 102 223 §6.6.9): command details (number 1, type 13, qualifier 00),
// device identities UICC → network, and an SMS-SUBMIT TPDU (TS 23.040
// §9.2.2.2: UDHI, no validity period, MR 00, DA = the originator of the
// command packet, PID 7F, DCS F6) whose user data is the PoR.
func sendSM(da, ud []byte) []byte {
	return tlv.AppendBERFunc(nil, tlv.TagProactive, func(b []byte) []byte {
		b = tlv.AppendBER(b, 0x81, []byte{0x01, 0x13, 0x00})
		b = tlv.AppendBER(b, 0x82, []byte{0x81, 0x83})
		return tlv.AppendBERFunc(b, 0x8B, func(b []byte) []byte {
			b = append(b, 0x41, 0x00)
			b = append(b, da...)
			b = append(b, 0x7F, 0xF6, byte(len(ud)))
			return append(b, ud...)
		})
	})
}

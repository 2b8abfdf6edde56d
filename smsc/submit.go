package smsc

import (
	"context"
	"errors"
	"time"
	"unsafe"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// handleSubmitFamily serves the requests of a transmitter bind.
func (s *session) handleSubmitFamily(h pdu.Header, body []byte) {
	switch h.ID {
	case pdu.CmdSubmitSM:
		s.submitSM(h, body)
	case pdu.CmdDataSM:
		s.dataSM(h, body)
	case pdu.CmdSubmitMulti:
		s.submitMulti(h, body)
	case pdu.CmdQuerySM:
		s.querySM(h, body)
	case pdu.CmdCancelSM:
		s.cancelSM(h, body)
	case pdu.CmdReplaceSM:
		s.replaceSM(h, body)
	}
}

// mtFields are the submit fields shared by submit_sm, data_sm and
// submit_multi.
type mtFields struct {
	service          []byte
	src, dst         pdu.Addr
	esm, pid, prio   uint8
	sched, valid     []byte
	rd, replace, dcs uint8
	sm               []byte
	tlvs             pdu.TLVs
	// shared, when set, is a copy of the user data (short_message or
	// message_payload) owned by the caller and shared by the messages of
	// one submit_multi, instead of a copy per destination.
	shared []byte
}

func (s *session) submitSM(h pdu.Header, body []byte) {
	sm := &s.sm
	if err := sm.Unmarshal(body); err != nil {
		s.decodeFailed(h, err)
		return
	}
	now := s.now()
	if !s.acct.bucket.allow(now) {
		s.respondID(pdu.CmdSubmitSMResp, pdu.StatusThrottled, h.Seq, "")
		return
	}
	m, st := s.newMT(now, &mtFields{service: sm.ServiceType, src: sm.Source, dst: sm.Dest, esm: sm.ESMClass,
		pid: sm.ProtocolID, prio: sm.PriorityFlag, sched: sm.ScheduleDeliveryTime, valid: sm.ValidityPeriod,
		rd: sm.RegisteredDelivery, replace: sm.ReplaceIfPresent, dcs: sm.DataCoding, sm: sm.ShortMessage, tlvs: sm.TLVs})
	if st != pdu.StatusOK {
		s.respondID(pdu.CmdSubmitSMResp, st, h.Seq, "")
		return
	}
	s.accept(pdu.CmdSubmitSMResp, h.Seq, m, now)
}

func (s *session) dataSM(h pdu.Header, body []byte) {
	d := &s.dsm
	if err := d.Unmarshal(body); err != nil {
		s.decodeFailed(h, err)
		return
	}
	now := s.now()
	if !s.acct.bucket.allow(now) {
		s.respondID(pdu.CmdDataSMResp, pdu.StatusThrottled, h.Seq, "")
		return
	}
	m, st := s.newMT(now, &mtFields{service: d.ServiceType, src: d.Source, dst: d.Dest, esm: d.ESMClass,
		rd: d.RegisteredDelivery, dcs: d.DataCoding, tlvs: d.TLVs})
	if st != pdu.StatusOK {
		s.respondID(pdu.CmdDataSMResp, st, h.Seq, "")
		return
	}
	s.accept(pdu.CmdDataSMResp, h.Seq, m, now)
}

// validNPI reports an NPI value SMPP 3.4 §5.2.6 defines.
func validNPI(n uint8) bool {
	switch n {
	case 0, 1, 3, 4, 6, 8, 9, 10, 14, 18:
		return true
	}
	return false
}

// maxAlphanumeric is the longest alphanumeric address GSM carries: 11
// characters (3GPP TS 23.040 §9.1.2.5).
const maxAlphanumeric = 11

// validAddr checks an address's characters against its type: numbers of
// the international, national and subscriber types (SMPP 3.4 §5.2.5), and
// any number in the E.164 plan (NPI 1), are digits (an international one
// may start with '+'); an alphanumeric one (TON 5) has at most 11
// characters. Other types and plans (short codes, TON 0 NPI 0) are not
// checked beyond the field's length.
func validAddr(a pdu.Addr) bool {
	switch {
	case len(a.Addr) == 0:
		return true // an empty source is the SMSC's default; an empty destination is refused before
	case a.TON == 5:
		return len(a.Addr) <= maxAlphanumeric
	case a.TON == 1 || a.TON == 2 || a.TON == 4 || a.NPI == 1:
		d := a.Addr
		if a.TON == 1 && len(d) > 0 && d[0] == '+' {
			d = d[1:]
		}
		if len(d) == 0 {
			return false
		}
		for _, c := range d {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// validDCS reports whether the server accepts a data_coding: the SMPP 3.4
// §5.2.19 values and the TS 23.038 coding groups, not the reserved ones.
func validDCS(d uint8) bool {
	switch {
	case d == 0x0B || d == 0x0C || d == 0x0F:
		return false
	case d >= 0x80 && d < 0xC0: // TS 23.038 reserved coding groups 1000..1011
		return false
	}
	return true
}

// newMT validates submit fields and builds the message, or returns the
// command_status to answer (SMPP 3.4 §5.1.3).
func (s *session) newMT(now time.Time, f *mtFields) (*Message, pdu.Status) {
	if len(f.dst.Addr) == 0 {
		return nil, pdu.StatusInvDstAdr
	}
	if f.dst.TON > 6 {
		return nil, pdu.StatusInvDstTON
	}
	if !validNPI(f.dst.NPI) {
		return nil, pdu.StatusInvDstNPI
	}
	if !validAddr(f.dst) {
		return nil, pdu.StatusInvDstAdr
	}
	if f.src.TON > 6 {
		return nil, pdu.StatusInvSrcTON
	}
	if !validNPI(f.src.NPI) {
		return nil, pdu.StatusInvSrcNPI
	}
	if !validAddr(f.src) {
		return nil, pdu.StatusInvSrcAdr
	}
	switch f.esm & 0x3C { // message type: default, ESME delivery ack, manual ack
	case 0x00, 0x08, 0x10:
	default:
		return nil, pdu.StatusInvEsmClass
	}
	if f.prio > 4 {
		return nil, pdu.StatusInvPrtFlg
	}
	if f.rd&0xE0 != 0 {
		return nil, pdu.StatusInvRegDlvFlg
	}
	if !validDCS(f.dcs) {
		return nil, pdu.StatusInvDCS
	}
	ud := f.sm
	payload := false
	if mp, ok := f.tlvs.Get(pdu.TagMessagePayload); ok {
		if len(f.sm) > 0 {
			return nil, pdu.StatusOptParNotAllwd
		}
		ud, payload = mp, true
	}
	sched, err := pdu.ParseTime(f.sched, now)
	if err != nil {
		return nil, pdu.StatusInvSched
	}
	valid, err := pdu.ParseTime(f.valid, now)
	if err != nil {
		return nil, pdu.StatusInvExpiry
	}
	if valid.IsZero() {
		valid = now.Add(s.srv.dur(s.srv.DefaultValidity, DefaultValidity))
	} else if !valid.After(now) {
		return nil, pdu.StatusInvExpiry
	} else if mv := s.srv.MaxValidity; mv > 0 && valid.Sub(now) > mv {
		valid = now.Add(mv)
	}
	if !sched.IsZero() && !valid.IsZero() && !sched.Before(valid) {
		return nil, pdu.StatusInvSched
	}
	// One allocation holds the user data (UDH and body), the id and the
	// addresses: the strings are views of it, which is safe because the
	// buffer is never written again. Fewer, pointer-free objects keep the
	// garbage collector's share small at 150k submits a second. The
	// destinations of a submit_multi share one copy of the user data.
	udLen := len(ud)
	if f.shared != nil {
		udLen = 0
	}
	buf := make([]byte, udLen, udLen+20+len(f.dst.Addr)+len(f.src.Addr)+len(f.service))
	copy(buf, ud[:udLen])
	buf = s.srv.appendID(buf)
	id := unsafeString(buf[udLen:])
	mark := len(buf)
	buf = append(buf, f.dst.Addr...)
	dst := unsafeString(buf[mark:])
	src := s.lastSrc
	if string(f.src.Addr) != src {
		mark = len(buf)
		buf = append(buf, f.src.Addr...)
		src = unsafeString(buf[mark:])
		s.lastSrc = src
	}
	service := ""
	if len(f.service) > 0 {
		mark = len(buf)
		buf = append(buf, f.service...)
		service = unsafeString(buf[mark:])
	}
	buf = buf[:udLen:udLen]
	if f.shared != nil {
		buf = f.shared[:len(f.shared):len(f.shared)]
	}
	m := &Message{
		ID:                 id,
		Account:            s.systemID,
		Direction:          MT,
		ServiceType:        service,
		Source:             Address{TON: f.src.TON, NPI: f.src.NPI, Addr: src},
		Dest:               Address{TON: f.dst.TON, NPI: f.dst.NPI, Addr: dst},
		ESMClass:           f.esm,
		PID:                f.pid,
		DCS:                f.dcs,
		Priority:           f.prio,
		RegisteredDelivery: f.rd,
		ReplaceIfPresent:   f.replace != 0,
		Body:               buf,
		Payload:            payload,
		SubmitTime:         now,
		Schedule:           sched,
		ValidUntil:         valid,
		State:              Enroute,
		origin:             s.ref,
	}
	m.Namespace = s.acct.Namespace
	if m.Namespace == "" {
		m.Namespace = s.systemID
	}
	if f.esm&0x40 != 0 {
		if len(buf) == 0 || 1+int(buf[0]) > len(buf) {
			return nil, pdu.StatusInvMsgLen
		}
		n := 1 + int(buf[0])
		m.UDH, m.Body = buf[:n:n], buf[n:]
		if c, ok := ConcatFromUDH(m.UDH); ok {
			m.Concat = &c
		}
	}
	if AlphabetOf(f.dcs) == AlphabetUCS2 && len(m.Body)%2 != 0 {
		return nil, pdu.StatusInvMsgLen
	}
	ref, hasRef := f.tlvs.Uint16(pdu.TagSarMsgRefNum)
	total, hasTotal := f.tlvs.Uint8(pdu.TagSarTotalSegments)
	seq, hasSeq := f.tlvs.Uint8(pdu.TagSarSegmentSeqnum)
	if hasRef || hasTotal || hasSeq {
		if !(hasRef && hasTotal && hasSeq) {
			return nil, pdu.StatusMissingOptParam
		}
		if total == 0 || seq == 0 || seq > total {
			return nil, pdu.StatusInvOptParamVal
		}
		m.Concat = &Concat{Ref: ref, Total: total, Seq: seq, Wide: true}
	}
	if v, ok := f.tlvs.Uint16(pdu.TagUserMessageReference); ok {
		m.UserMessageReference = &v
	}
	if v, ok := f.tlvs.Uint16(pdu.TagSourcePort); ok {
		m.SourcePort = &v
	}
	if v, ok := f.tlvs.Uint16(pdu.TagDestinationPort); ok {
		m.DestPort = &v
	}
	m.SIMDownload = IsSIMDownload(m.PID, m.DCS, m.UDH)
	if !sched.IsZero() && sched.After(now) {
		m.State = Scheduled
	}
	return m, pdu.StatusOK
}

// accept runs a valid MT submit: faults, replace_if_present, queue limit,
// routing, the durable store, the response, then delivery.
func (s *session) accept(resp pdu.CommandID, seq uint32, m *Message, now time.Time) {
	srv := s.srv
	if srv.Faults != nil {
		st, drop := srv.Faults.submit(m.Account, m.Dest.Addr, now)
		if drop {
			s.close("fault injection: dropped connection")
			return
		}
		if st != pdu.StatusOK {
			s.respondID(resp, st, seq, "")
			return
		}
	}
	if m.ReplaceIfPresent {
		if id := srv.engine.findReplaceable(m); id != "" {
			nm := m
			err := srv.engine.replace(id, m.Dest.Addr, func(x *Message) {
				x.UDH, x.Body, x.DCS, x.PID, x.ESMClass = nm.UDH, nm.Body, nm.DCS, nm.PID, nm.ESMClass
				x.Schedule, x.ValidUntil, x.RegisteredDelivery, x.Concat = nm.Schedule, nm.ValidUntil, nm.RegisteredDelivery, nm.Concat
			})
			if err == nil {
				s.respondID(resp, pdu.StatusOK, seq, id)
				return
			}
		}
	}
	// Answers from the destination to the source come back to this bind
	// (docs/smsc.md, "Routing"); noted before an inline sink can answer.
	srv.engine.noteReply(s, m)
	sink, ob := srv.engine.route(m)
	inline := false
	if ob == nil && isInline(sink) && m.State == Enroute && (srv.Faults == nil || !srv.Faults.hasDelivery(m.Account, m.Dest.Addr)) {
		if err := sink.Deliver(srv.engine.ctx, m); err == nil {
			m.State, m.DoneTime, m.Attempts = Delivered, now, 1
			m.ReceiptDue = srv.engine.perSegment(m) && wantReceipt(m.RegisteredDelivery, Delivered)
			inline = true
		}
	}
	if !inline && srv.engine.queueFull(m.Dest.Addr) {
		s.respondID(resp, pdu.StatusMsgQFul, seq, "")
		return
	}
	if srv.async != nil {
		srv.async.AppendAsync(m, func(err error) { s.stored(err, resp, seq, m, sink, ob, inline, now) })
		return
	}
	s.stored(srv.Store.Append(context.Background(), m), resp, seq, m, sink, ob, inline, now)
}

// stored answers a submit once the store has it (or failed), then starts
// delivery. A method rather than a closure: no allocation per submit on the
// synchronous path.
func (s *session) stored(err error, resp pdu.CommandID, seq uint32, m *Message, sink Sink, ob *outbox, inline bool, now time.Time) {
	srv := s.srv
	if err != nil {
		st := pdu.StatusSysErr
		if errors.Is(err, ErrStoreFull) {
			st = pdu.StatusMsgQFul
		}
		srv.storeFailed(err)
		s.respondID(resp, st, seq, "")
		return
	}
	s.respondID(resp, pdu.StatusOK, seq, m.ID)
	srv.counters.accepted.Add(1)
	srv.emit(EventStored, m)
	if inline {
		// Counted here, not at delivery: a submit the store then refused
		// was answered with an error and is not in the statistics.
		srv.counters.finished(Delivered)
		srv.engine.receiptFor(m, Delivered, 0, now)
		return
	}
	srv.engine.dispatch(m, sink, ob)
}

func (s *session) submitMulti(h pdu.Header, body []byte) {
	p := &s.multi
	if err := p.Unmarshal(body); err != nil {
		s.decodeFailed(h, err)
		return
	}
	now := s.now()
	if !s.acct.bucket.allow(now) {
		s.respondStatus(h, pdu.StatusThrottled)
		return
	}
	var resp pdu.SubmitMultiResp
	var msgs []*Message
	var group string
	// One copy of the user data for every destination (newMT checks that
	// short_message and message_payload are not both set).
	ud := p.ShortMessage
	if mp, ok := p.TLVs.Get(pdu.TagMessagePayload); ok && len(ud) == 0 {
		ud = mp
	}
	var shared []byte
	if len(ud) > 0 {
		shared = append([]byte(nil), ud...)
	}
	for i := range p.Dests {
		d := &p.Dests[i]
		if d.Flag == pdu.DestDLName {
			resp.Unsuccess = append(resp.Unsuccess, pdu.UnsuccessSME{Addr: pdu.Addr{Addr: d.DLName}, Status: pdu.StatusInvDLName})
			continue
		}
		m, st := s.newMT(now, &mtFields{service: p.ServiceType, src: p.Source, dst: d.Addr, esm: p.ESMClass,
			pid: p.ProtocolID, prio: p.PriorityFlag, sched: p.ScheduleDeliveryTime, valid: p.ValidityPeriod,
			rd: p.RegisteredDelivery, dcs: p.DataCoding, sm: p.ShortMessage, tlvs: p.TLVs, shared: shared})
		if st == pdu.StatusOK && s.srv.engine.queueFull(m.Dest.Addr) {
			st = pdu.StatusMsgQFul
		}
		if st == pdu.StatusOK && s.srv.Faults != nil {
			if fst, drop := s.srv.Faults.submit(m.Account, m.Dest.Addr, now); drop {
				s.close("fault injection: dropped connection")
				return
			} else if fst != pdu.StatusOK {
				st = fst
			}
		}
		if st != pdu.StatusOK {
			switch st {
			case pdu.StatusInvDstAdr, pdu.StatusInvDstTON, pdu.StatusInvDstNPI, pdu.StatusMsgQFul, pdu.StatusThrottled, pdu.StatusSysErr:
				resp.Unsuccess = append(resp.Unsuccess, pdu.UnsuccessSME{Addr: pdu.Addr{TON: d.Addr.TON, NPI: d.Addr.NPI, Addr: append([]byte(nil), d.Addr.Addr...)}, Status: st})
				continue
			}
			s.respondStatus(h, st) // a field common to every destination
			return
		}
		if group == "" {
			group = m.ID
		}
		m.Multi = group
		msgs = append(msgs, m)
	}
	if len(msgs) > 0 {
		if err := s.srv.Store.Append(context.Background(), msgs...); err != nil {
			s.srv.storeFailed(err)
			st := pdu.StatusSysErr
			if errors.Is(err, ErrStoreFull) {
				st = pdu.StatusMsgQFul
			}
			s.respondStatus(h, st)
			return
		}
	}
	resp.MessageID = []byte(group)
	s.write(pdu.CmdSubmitMultiResp, pdu.StatusOK, h.Seq, resp.AppendBody)
	s.srv.counters.accepted.Add(int64(len(msgs)))
	for _, m := range msgs {
		s.srv.engine.noteReply(s, m)
		s.srv.emit(EventStored, m)
		sk, ob := s.srv.engine.route(m)
		s.srv.engine.dispatch(m, sk, ob)
	}
}

// ownMessage fetches a message the session's account submitted, for
// query_sm, cancel_sm and replace_sm (SMPP 3.4 §4.8-4.10): an unknown id,
// or another account's message, is ESME_RINVMSGID; a source address that is
// given and differs from the message's is ESME_RINVSRCADR.
func (s *session) ownMessage(id, source []byte) (*Message, pdu.Status) {
	if len(id) == 0 {
		return nil, pdu.StatusInvMsgID
	}
	m, err := s.srv.Store.Get(context.Background(), string(id))
	if err != nil || m.Account != s.systemID {
		return nil, pdu.StatusInvMsgID
	}
	if len(source) > 0 && string(source) != m.Source.Addr {
		return nil, pdu.StatusInvSrcAdr
	}
	return m, pdu.StatusOK
}

func (s *session) querySM(h pdu.Header, body []byte) {
	var q pdu.QuerySM
	if err := q.Unmarshal(body); err != nil {
		s.decodeFailed(h, err)
		return
	}
	m, st := s.ownMessage(q.MessageID, q.Source.Addr)
	if st != pdu.StatusOK {
		s.respond(pdu.CmdQuerySMResp, st, h.Seq)
		return
	}
	r := pdu.QuerySMResp{MessageID: q.MessageID, MessageState: m.State.MessageState(s.version), ErrorCode: uint8(min(m.ErrorCode, 255))}
	if m.State.Final() {
		r.FinalDate = pdu.AppendTime(nil, m.DoneTime)
	}
	s.write(pdu.CmdQuerySMResp, pdu.StatusOK, h.Seq, r.AppendBody)
}

func (s *session) cancelSM(h pdu.Header, body []byte) {
	var c pdu.CancelSM
	if err := c.Unmarshal(body); err != nil {
		s.decodeFailed(h, err)
		return
	}
	if len(c.MessageID) == 0 {
		if len(c.Dest.Addr) == 0 {
			s.respond(pdu.CmdCancelSMResp, pdu.StatusInvDstAdr, h.Seq)
			return
		}
		n := s.srv.engine.cancelMatching(s.systemID, string(c.Source.Addr), string(c.Dest.Addr), string(c.ServiceType))
		if n == 0 {
			s.respond(pdu.CmdCancelSMResp, pdu.StatusCancelFail, h.Seq)
			return
		}
		s.respond(pdu.CmdCancelSMResp, pdu.StatusOK, h.Seq)
		return
	}
	m, st := s.ownMessage(c.MessageID, c.Source.Addr)
	if st != pdu.StatusOK {
		s.respond(pdu.CmdCancelSMResp, st, h.Seq)
		return
	}
	if err := s.srv.engine.cancel(m); err != nil {
		s.respond(pdu.CmdCancelSMResp, pdu.StatusCancelFail, h.Seq)
		return
	}
	s.respond(pdu.CmdCancelSMResp, pdu.StatusOK, h.Seq)
}

func (s *session) replaceSM(h pdu.Header, body []byte) {
	var r pdu.ReplaceSM
	if err := r.Unmarshal(body); err != nil {
		s.decodeFailed(h, err)
		return
	}
	m, st := s.ownMessage(r.MessageID, r.Source.Addr)
	if st != pdu.StatusOK {
		s.respond(pdu.CmdReplaceSMResp, st, h.Seq)
		return
	}
	now := s.now()
	sched, err := pdu.ParseTime(r.ScheduleDeliveryTime, now)
	if err != nil {
		s.respond(pdu.CmdReplaceSMResp, pdu.StatusInvSched, h.Seq)
		return
	}
	valid, err := pdu.ParseTime(r.ValidityPeriod, now)
	if err != nil || (!valid.IsZero() && !valid.After(now)) {
		s.respond(pdu.CmdReplaceSMResp, pdu.StatusInvExpiry, h.Seq)
		return
	}
	ud := append([]byte(nil), r.ShortMessage...)
	var udh, bd []byte = nil, ud
	if m.ESMClass&0x40 != 0 {
		if len(ud) == 0 || 1+int(ud[0]) > len(ud) {
			s.respond(pdu.CmdReplaceSMResp, pdu.StatusInvMsgLen, h.Seq)
			return
		}
		n := 1 + int(ud[0])
		udh, bd = ud[:n:n], ud[n:]
	}
	rd := r.RegisteredDelivery
	err = s.srv.engine.replace(m.ID, m.Dest.Addr, func(x *Message) {
		x.UDH, x.Body, x.Payload = udh, bd, false
		if !sched.IsZero() {
			x.Schedule = sched
		}
		if !valid.IsZero() {
			x.ValidUntil = valid
		}
		x.RegisteredDelivery = rd
	})
	if err != nil {
		s.respond(pdu.CmdReplaceSMResp, pdu.StatusReplaceFail, h.Seq)
		return
	}
	s.respond(pdu.CmdReplaceSMResp, pdu.StatusOK, h.Seq)
}

// unsafeString views b as a string; b must never be written again.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

package smsc

// Reassembled is a concatenated message put back together from its parts
// (TS 23.040 §9.2.3.24.1 and .8, SMPP 3.4 sar_* TLVs).
type Reassembled struct {
	// Parts by sequence number (index 0 = part 1); nil where missing.
	Parts []*Message
	// Complete reports that every part is present.
	Complete bool
	// DCS of the parts (the first part's).
	DCS uint8
	// Body is the parts' bodies concatenated in order (missing parts
	// skipped), UDHs removed.
	Body []byte
	// Text decodes Body when DCS is a text coding.
	Text   string
	IsText bool
}

// Reassemble puts parts of one concatenated message in order. Messages
// without Concat are taken as a single complete part.
func Reassemble(parts []*Message) Reassembled {
	if len(parts) == 0 {
		return Reassembled{}
	}
	total := 1
	if c := parts[0].Concat; c != nil && c.Total > 0 {
		total = int(c.Total)
	}
	r := Reassembled{Parts: make([]*Message, total), DCS: parts[0].DCS}
	for _, p := range parts {
		i := 0
		if p.Concat != nil {
			i = int(p.Concat.Seq) - 1
		}
		if i >= 0 && i < total && r.Parts[i] == nil {
			r.Parts[i] = p
		}
	}
	r.Complete = true
	for _, p := range r.Parts {
		if p == nil {
			r.Complete = false
			continue
		}
		r.Body = append(r.Body, p.Body...)
	}
	r.Text, r.IsText = DecodeText(r.DCS, r.Body)
	return r
}

// ConcatKey identifies the parts of one concatenated message.
type ConcatKey struct {
	Namespace, Source, Dest string
	Direction               Direction
	Ref                     uint16
	Total                   uint8
	Wide                    bool
}

// KeyOf returns the reassembly key of a part (ok false for a message that
// is not part of a concatenated one).
func KeyOf(m *Message) (ConcatKey, bool) {
	if m.Concat == nil || m.Concat.Total <= 1 {
		return ConcatKey{}, false
	}
	return ConcatKey{m.Namespace, m.Source.Addr, m.Dest.Addr, m.Direction, m.Concat.Ref, m.Concat.Total, m.Concat.Wide}, true
}

package uicc

import (
	"bytes"
	"context"

	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/applet/tlv"
)

// allowed reports whether access condition a is met now.
func (c *Card) allowed(a access) bool {
	switch a {
	case accAlways:
		return true
	case accPIN1:
		return c.pin1OK() || c.vol.admOK
	case accADM:
		return c.adm1.verified || c.vol.admOK
	}
	return false
}

// selectFile serves SELECT (TS 102 221 §11.1.1; TS 51.011 §9.2.1 for A0).
func (c *Card) selectFile(ctx context.Context, cmd *apdu.Command, gsm bool) ([]byte, apdu.SW) {
	if gsm {
		if cmd.P1 != 0 || cmd.P2 != 0 {
			return nil, apdu.SWIncorrectP1P2
		}
		if len(cmd.Data) != 2 {
			return nil, apdu.SWWrongLength
		}
		f := c.byFID(uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1]))
		if f == nil || f.kind == kindADF {
			return nil, apdu.SWFileNotFound
		}
		c.makeCurrent(f)
		return c.appendGSMResponse(c.scratch[:0], f), apdu.SWOK
	}
	resp := cmd.P2 & 0x0C // 00 FCI, 04 FCP, 08 FMD, 0C no data
	occ := cmd.P2 & 0x03
	if cmd.P2&0x90 != 0 || resp == 0x08 || (cmd.P1 != 0x04 && (occ != 0 || cmd.P2&0x60 != 0)) || cmd.P2&0x60 == 0x20 || cmd.P2&0x60 == 0x60 {
		return nil, apdu.SWIncorrectP1P2
	}
	var f *file
	switch cmd.P1 {
	case 0x00:
		switch len(cmd.Data) {
		case 0:
			f = c.mf
		case 2:
			f = c.byFID(uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1]))
		default:
			return nil, apdu.SWWrongLength
		}
	case 0x01:
		if len(cmd.Data) != 2 {
			return nil, apdu.SWWrongLength
		}
		if ch := c.vol.df.child(uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])); ch != nil && ch.kind.isDF() {
			f = ch
		}
	case 0x03:
		if len(cmd.Data) != 0 {
			return nil, apdu.SWWrongLength
		}
		f = c.vol.df.parent
	case 0x04:
		if len(cmd.Data) < 1 || len(cmd.Data) > 16 {
			return nil, apdu.SWWrongLength
		}
		if cmd.P2&0x60 == 0x40 { // application session termination
			if c.vol.adf != nil && bytes.HasPrefix(c.vol.adf.aid, cmd.Data) {
				c.vol.adf, c.vol.df, c.vol.ef, c.vol.rec = nil, c.mf, nil, 0
				return nil, apdu.SWOK
			}
			return nil, apdu.SWFileNotFound
		}
		if occ != 0 && occ != 0x01 { // next/previous: only one occurrence exists
			return nil, apdu.SWFileNotFound
		}
		if bytes.HasPrefix(c.usim.aid, cmd.Data) {
			f = c.usim
			break
		}
		for _, inst := range c.applets {
			if inst.applet != nil && inst.prof.AID != nil && bytes.HasPrefix(inst.prof.AID, cmd.Data) {
				return c.selectApplet(ctx, inst, cmd)
			}
		}
	case 0x08, 0x09:
		if len(cmd.Data) < 2 || len(cmd.Data)%2 != 0 {
			return nil, apdu.SWWrongLength
		}
		start := c.mf
		path := cmd.Data
		if cmd.P1 == 0x09 {
			start = c.vol.df
		} else if path[0] == 0x3F && path[1] == 0x00 {
			path = path[2:] // tolerate a path that names the MF itself
			if len(path) == 0 {
				f = c.mf
				break
			}
		}
		f = c.byPath(start, path)
	default:
		return nil, apdu.SWIncorrectP1P2
	}
	if f == nil {
		return nil, apdu.SWFileNotFound
	}
	c.makeCurrent(f)
	if resp == 0x0C {
		return nil, apdu.SWOK
	}
	return c.appendFCP(c.scratch[:0], f), apdu.SWOK
}

// byFID resolves a file identifier from the current DF (TS 102 221 §8.4.1):
// the MF, the current ADF (7FFF), the current DF, its children, its parent
// and the parent's children.
func (c *Card) byFID(fid uint16) *file {
	df := c.vol.df
	switch {
	case fid == fidMF:
		return c.mf
	case fid == fidCurADF:
		return c.vol.adf
	case fid == df.fid:
		return df
	}
	if f := df.child(fid); f != nil {
		return f
	}
	if p := df.parent; p != nil {
		if p.fid == fid {
			return p
		}
		if f := p.child(fid); f != nil {
			return f
		}
	}
	return nil
}

// byPath follows a path of file identifiers from start; 7FFF as the first
// element is the current ADF (TS 102 221 §8.4.2).
func (c *Card) byPath(start *file, path []byte) *file {
	f := start
	for i := 0; i+1 < len(path); i += 2 {
		fid := uint16(path[i])<<8 | uint16(path[i+1])
		if f == nil || !f.kind.isDF() {
			return nil
		}
		switch {
		case i == 0 && fid == fidCurADF:
			f = c.vol.adf
		default:
			f = f.child(fid)
		}
	}
	return f
}

// makeCurrent makes f the current file (TS 102 221 §8.4).
func (c *Card) makeCurrent(f *file) {
	c.vol.rec = 0
	c.vol.selected = nil
	if f.kind.isDF() {
		c.vol.df, c.vol.ef = f, nil
		if f.kind == kindADF {
			c.vol.adf = f
		}
		return
	}
	c.vol.ef, c.vol.df = f, f.parent
	if f.parent.kind == kindADF {
		c.vol.adf = f.parent
	}
}

// status serves STATUS (TS 102 221 §11.1.2).
func (c *Card) status(cmd *apdu.Command, gsm bool) ([]byte, apdu.SW) {
	if len(cmd.Data) != 0 {
		return nil, apdu.SWWrongLength
	}
	if gsm {
		if cmd.P1 != 0 || cmd.P2 != 0 {
			return nil, apdu.SWIncorrectP1P2
		}
		return c.appendGSMResponse(c.scratch[:0], c.vol.df), apdu.SWOK
	}
	if cmd.P1 > 0x02 {
		return nil, apdu.SWIncorrectP1P2
	}
	switch cmd.P2 {
	case 0x00:
		return c.appendFCP(c.scratch[:0], c.vol.df), apdu.SWOK
	case 0x01:
		if c.vol.adf == nil {
			return nil, apdu.SWRefDataNotFound
		}
		return tlv.AppendBER(c.scratch[:0], 0x84, c.vol.adf.aid), apdu.SWOK
	case 0x0C:
		return nil, apdu.SWOK
	}
	return nil, apdu.SWIncorrectP1P2
}

// efForSFI selects the EF with short file identifier sfi in the current DF,
// or returns the current EF when sfi is 0.
func (c *Card) efForSFI(sfi byte) (*file, apdu.SW) {
	if sfi == 0 {
		if c.vol.ef == nil {
			return nil, apdu.SWNoCurrentEF
		}
		return c.vol.ef, apdu.SWOK
	}
	f := c.vol.df.childSFI(sfi)
	if f == nil {
		return nil, apdu.SWFileNotFound
	}
	c.makeCurrent(f)
	return f, apdu.SWOK
}

// binaryTarget decodes P1/P2 of READ/UPDATE BINARY (TS 102 221 §11.1.3):
// b8 of P1 set means an SFI in b5..b1 and an offset in P2.
func (c *Card) binaryTarget(cmd *apdu.Command, gsm bool) (*file, int, apdu.SW) {
	var sfi byte
	off := int(cmd.P1)<<8 | int(cmd.P2)
	if cmd.P1&0x80 != 0 {
		if gsm || cmd.P1&0x60 != 0 {
			return nil, 0, apdu.SWIncorrectP1P2
		}
		sfi, off = cmd.P1&0x1F, int(cmd.P2)
		if sfi == 0 || sfi == 0x1F {
			return nil, 0, apdu.SWIncorrectP1P2
		}
	}
	f, sw := c.efForSFI(sfi)
	if sw != apdu.SWOK {
		return nil, 0, sw
	}
	if f.kind != kindTransparent {
		return nil, 0, apdu.SWIncompatibleFile
	}
	return f, off, apdu.SWOK
}

// readBinary serves READ BINARY (TS 102 221 §11.1.3).
func (c *Card) readBinary(cmd *apdu.Command, gsm bool) ([]byte, apdu.SW) {
	if len(cmd.Data) != 0 || cmd.Ne == 0 {
		return nil, apdu.SWWrongLength
	}
	f, off, sw := c.binaryTarget(cmd, gsm)
	if sw != apdu.SWOK {
		return nil, sw
	}
	if !c.allowed(f.read) {
		return nil, apdu.SWSecurityStatus
	}
	data := c.content(f)
	if off >= len(data) {
		return nil, apdu.SWWrongP1P2
	}
	avail := len(data) - off
	n := cmd.Ne
	if n > avail {
		if cmd.Ne != 256 && cmd.Ne != 65536 { // an exact Le that is too long: tell the length (T=0)
			return nil, apdu.WrongLe(avail)
		}
		n = avail
	}
	return append(c.scratch[:0], data[off:off+n]...), apdu.SWOK
}

// updateBinary serves UPDATE BINARY (TS 102 221 §11.1.4).
func (c *Card) updateBinary(cmd *apdu.Command, gsm bool) ([]byte, apdu.SW) {
	if len(cmd.Data) == 0 || cmd.Ne != 0 {
		return nil, apdu.SWWrongLength
	}
	f, off, sw := c.binaryTarget(cmd, gsm)
	if sw != apdu.SWOK {
		return nil, sw
	}
	if !c.allowed(f.update) {
		return nil, apdu.SWSecurityStatus
	}
	if off >= f.size {
		return nil, apdu.SWWrongP1P2
	}
	if off+len(cmd.Data) > f.size {
		return nil, apdu.SWWrongLength
	}
	copy(c.writable(f)[off:], cmd.Data)
	return nil, apdu.SWOK
}

// recordTarget decodes P1/P2 of READ/UPDATE RECORD (TS 102 221 §11.1.5) and
// moves the record pointer; it returns the record number.
func (c *Card) recordTarget(cmd *apdu.Command, gsm bool, update bool) (*file, int, apdu.SW) {
	sfi := cmd.P2 >> 3
	mode := cmd.P2 & 0x07
	if gsm && sfi != 0 || sfi == 0x1F {
		return nil, 0, apdu.SWIncorrectP1P2
	}
	f, sw := c.efForSFI(sfi)
	if sw != apdu.SWOK {
		return nil, 0, sw
	}
	if f.kind != kindLinear {
		return nil, 0, apdu.SWIncompatibleFile
	}
	a := f.read
	if update {
		a = f.update
	}
	if !c.allowed(a) {
		return nil, 0, apdu.SWSecurityStatus
	}
	n := f.records()
	var rec int
	switch mode {
	case 0x04: // absolute, or current when P1 = 0
		rec = int(cmd.P1)
		if rec == 0 {
			rec = c.vol.rec
		}
		if rec == 0 || rec > n {
			return nil, 0, apdu.SWRecordNotFound
		}
	case 0x02: // next
		if cmd.P1 != 0 {
			return nil, 0, apdu.SWIncorrectP1P2
		}
		rec = c.vol.rec + 1
		if rec > n {
			return nil, 0, apdu.SWRecordNotFound
		}
	case 0x03: // previous
		if cmd.P1 != 0 {
			return nil, 0, apdu.SWIncorrectP1P2
		}
		if c.vol.rec == 0 {
			rec = n
		} else {
			rec = c.vol.rec - 1
		}
		if rec < 1 {
			return nil, 0, apdu.SWRecordNotFound
		}
	default:
		return nil, 0, apdu.SWIncorrectP1P2
	}
	c.vol.rec = rec
	return f, rec, apdu.SWOK
}

// readRecord serves READ RECORD (TS 102 221 §11.1.5).
func (c *Card) readRecord(cmd *apdu.Command, gsm bool) ([]byte, apdu.SW) {
	if len(cmd.Data) != 0 || cmd.Ne == 0 {
		return nil, apdu.SWWrongLength
	}
	// Check Le before moving the record pointer, so that a T=0 retry after
	// 6Cxx reads the same record.
	if f := c.peekRecordEF(cmd.P2 >> 3); f != nil && cmd.Ne != 256 && cmd.Ne != 65536 && cmd.Ne != f.recLen {
		return nil, apdu.WrongLe(f.recLen)
	}
	f, rec, sw := c.recordTarget(cmd, gsm, false)
	if sw != apdu.SWOK {
		return nil, sw
	}
	return append(c.scratch[:0], c.content(f)[(rec-1)*f.recLen:rec*f.recLen]...), apdu.SWOK
}

func (c *Card) peekRecordEF(sfi byte) *file {
	f := c.vol.ef
	if sfi != 0 {
		f = c.vol.df.childSFI(sfi)
	}
	if f == nil || f.kind != kindLinear {
		return nil
	}
	return f
}

// updateRecord serves UPDATE RECORD (TS 102 221 §11.1.6).
func (c *Card) updateRecord(cmd *apdu.Command, gsm bool) ([]byte, apdu.SW) {
	if len(cmd.Data) == 0 || cmd.Ne != 0 {
		return nil, apdu.SWWrongLength
	}
	if f := c.peekRecordEF(cmd.P2 >> 3); f != nil && len(cmd.Data) != f.recLen {
		return nil, apdu.SWWrongLength
	}
	f, rec, sw := c.recordTarget(cmd, gsm, true)
	if sw != apdu.SWOK {
		return nil, sw
	}
	copy(c.writable(f)[(rec-1)*f.recLen:rec*f.recLen], cmd.Data)
	return nil, apdu.SWOK
}

package uicc

import (
	"github.com/simlab-dev/simlab/applet/tlv"
)

// kind is a file's type (ETSI TS 102 221 §8.2, §8.3).
type kind uint8

const (
	kindMF kind = iota + 1
	kindDF
	kindADF
	kindTransparent
	kindLinear
)

func (k kind) isDF() bool { return k == kindMF || k == kindDF || k == kindADF }

// access is an access condition (TS 102 221 §9.2, simplified to the
// conditions a UICC profile uses).
type access uint8

const (
	accAlways access = iota
	accPIN1
	accADM
	accNever
)

// body is an EF's content. DF_GSM and DF_TELECOM EFs share the body of their
// USIM twins, as on real cards where both paths reach the same data.
type body struct {
	data   []byte // transparent data, or records back to back
	recLen int    // record length for linear fixed EFs
}

func (b *body) records() int {
	if b.recLen == 0 {
		return 0
	}
	return len(b.data) / b.recLen
}

func (b *body) record(n int) []byte { return b.data[(n-1)*b.recLen : n*b.recLen] }

// file is a node of the card's file tree.
type file struct {
	fid      uint16
	kind     kind
	aid      []byte // ADF only
	sfi      byte   // 1..30, 0 = none
	parent   *file
	children []*file
	body     *body
	read     access
	update   access
}

func (f *file) child(fid uint16) *file {
	for _, c := range f.children {
		if c.fid == fid {
			return c
		}
	}
	return nil
}

func (f *file) childSFI(sfi byte) *file {
	for _, c := range f.children {
		if c.sfi == sfi && !c.kind.isDF() {
			return c
		}
	}
	return nil
}

// totalSize is the memory the files under a DF take, with 32 bytes of
// structural overhead per file as appendFCP counts it for EFs.
func (f *file) totalSize() int {
	if !f.kind.isDF() {
		return len(f.body.data) + 32
	}
	n := 0
	for _, c := range f.children {
		n += c.totalSize()
	}
	return min(n, 0xFFFF)
}

func (f *file) add(c *file) *file {
	c.parent = f
	f.children = append(f.children, c)
	return c
}

func ef(fid uint16, sfi byte, read, update access, data []byte) *file {
	return &file{fid: fid, kind: kindTransparent, sfi: sfi, read: read, update: update, body: &body{data: data}}
}

func efRec(fid uint16, sfi byte, read, update access, recLen int, recs ...[]byte) *file {
	b := &body{recLen: recLen, data: make([]byte, recLen*len(recs))}
	for i, r := range recs {
		rec := b.data[i*recLen : (i+1)*recLen]
		n := copy(rec, r)
		for j := n; j < recLen; j++ {
			rec[j] = 0xFF
		}
	}
	return &file{fid: fid, kind: kindLinear, sfi: sfi, read: read, update: update, body: b}
}

func alias(fid uint16, of *file) *file {
	return &file{fid: fid, kind: of.kind, read: of.read, update: of.update, body: of.body}
}

// File identifiers (TS 102 221 §13, TS 31.102 §4, TS 51.011 §10).
const (
	fidMF        = 0x3F00
	fidICCID     = 0x2FE2
	fidDIR       = 0x2F00
	fidPL        = 0x2F05
	fidADF       = 0x7FF0 // the USIM ADF's file identifier inside the card (selected by AID or 7FFF)
	fidCurADF    = 0x7FFF
	fidTelecom   = 0x7F10
	fidGSM       = 0x7F20
	fidIMSI      = 0x6F07
	fidMSISDN    = 0x6F40
	fidSMSP      = 0x6F42
	fidUST       = 0x6F38
	fidAD        = 0x6FAD
	fidLI        = 0x6F05
	fidSPN       = 0x6F46
	fidSMS       = 0x6F3C
	fidSMSS      = 0x6F43
	fidARRMF     = 0x2F06
	fidARR       = 0x6F06
	fidLP        = 0x6F05 // DF_GSM; EF_LI in ADF_USIM has the same FID
	fidKeys      = 0x6F08
	fidKeysPS    = 0x6F09
	fidKc        = 0x6F20
	fidHPPLMN    = 0x6F31
	fidSST       = 0x6F38 // DF_GSM; EF_UST in ADF_USIM has the same FID
	fidStartHFN  = 0x6F5B
	fidThreshold = 0x6F5C
	fidPSLOCI    = 0x6F73
	fidBCCH      = 0x6F74
	fidACC       = 0x6F78
	fidFPLMN     = 0x6F7B
	fidLOCI      = 0x6F7E
	fidPhase     = 0x6FAE
	fidECC       = 0x6FB7
	fidNETPAR    = 0x6FC4
	arrRecLen    = 32
	eccRecLen    = 4
	dirRecLen    = 32
	msisdnAlpha  = 14
	smspAlpha    = 12
	smsRecords   = 10
	smsRecLen    = 176
	msisdnRecCnt = 2
)

// buildFS builds the file tree of a profile: the MF with EF_ICCID, EF_DIR,
// EF_PL and EF_ARR (TS 102 221 §13); ADF_USIM with every EF that TS 31.102
// §4.2 makes mandatory and those the profile fills (MSISDN, SMSP, SPN, SMS,
// SMSS); DF_TELECOM and DF_GSM for 2G clients, DF_GSM with the EFs that TS
// 51.011 §10.3 makes mandatory, sharing the USIM's contents where the two
// specifications describe the same data (IMSI, ACC, FPLMN, LOCI, AD,
// HPPLMN, SPN). mandatoryFiles in the tests lists them with their
// structure and size.
func buildFS(p *Profile) (mf, usim *file) {
	mf = &file{fid: fidMF, kind: kindMF}
	langs := p.Languages
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	arr := arrRecords()
	mf.add(ef(fidICCID, 0x02, accAlways, accNever, efICCID(p.ICCID)))
	mf.add(efRec(fidDIR, 0x1E, accAlways, accADM, dirRecLen, dirRecord(p.USIMAID, "USIM", dirRecLen)))
	mf.add(ef(fidPL, 0x05, accAlways, accPIN1, efLanguages(langs, 4)))
	mf.add(efRec(fidARRMF, 0x06, accAlways, accADM, arrRecLen, arr...))

	usim = mf.add(&file{fid: fidADF, kind: kindADF, aid: p.USIMAID})
	usim.add(ef(fidLI, 0x02, accAlways, accPIN1, efLanguages(langs, 4)))
	usim.add(efRec(fidARR, 0x17, accAlways, accADM, arrRecLen, arr...))
	imsi := usim.add(ef(fidIMSI, 0x07, accPIN1, accADM, efIMSI(p.IMSI)))
	usim.add(ef(fidKeys, 0x08, accPIN1, accPIN1, efKeys()))
	usim.add(ef(fidKeysPS, 0x09, accPIN1, accPIN1, efKeys()))
	hpplmn := usim.add(ef(fidHPPLMN, 0x12, accPIN1, accADM, []byte{0x05})) // search every 5×6 minutes
	usim.add(ef(fidUST, 0x04, accPIN1, accADM, efUST()))
	acc := usim.add(ef(fidACC, 0x06, accPIN1, accADM, efACC(p.IMSI)))
	fplmn := usim.add(ef(fidFPLMN, 0x0D, accPIN1, accPIN1, filled(12, 0xFF))) // room for 4 PLMNs, none forbidden
	loci := usim.add(ef(fidLOCI, 0x0B, accPIN1, accPIN1, efLOCI(p.IMSI)))
	ad := usim.add(ef(fidAD, 0x03, accAlways, accADM, efAD(2)))
	usim.add(efRec(fidECC, 0x01, accAlways, accADM, eccRecLen, efECC("112"), efECC("911")))
	usim.add(ef(fidPSLOCI, 0x0C, accPIN1, accPIN1, efPSLOCI(p.IMSI)))
	usim.add(ef(fidStartHFN, 0x0F, accPIN1, accPIN1, []byte{0xF0, 0x00, 0x00, 0xF0, 0x00, 0x00}))
	usim.add(ef(fidThreshold, 0x10, accPIN1, accADM, []byte{0xF0, 0x10, 0x00}))
	usim.add(ef(fidNETPAR, 0, accPIN1, accPIN1, efNETPAR()))
	var msisdnRecs [][]byte
	if p.MSISDN != "" {
		msisdnRecs = append(msisdnRecs, msisdnRecord(p.MSISDN, msisdnAlpha))
	}
	for len(msisdnRecs) < msisdnRecCnt {
		msisdnRecs = append(msisdnRecs, nil)
	}
	msisdn := usim.add(efRec(fidMSISDN, 0, accPIN1, accPIN1, msisdnAlpha+14, msisdnRecs...))
	smsp := usim.add(efRec(fidSMSP, 0, accPIN1, accPIN1, smspAlpha+28, smspRecord(p.SMSC, smspAlpha)))
	spn := usim.add(ef(fidSPN, 0, accAlways, accADM, efSPN(p.SPN)))
	sms := make([][]byte, smsRecords)
	for i := range sms {
		sms[i] = []byte{0x00} // status byte 00: free record (TS 31.102 §4.2.25)
	}
	smsEF := usim.add(efRec(fidSMS, 0, accPIN1, accPIN1, smsRecLen, sms...))
	smss := usim.add(ef(fidSMSS, 0, accPIN1, accPIN1, []byte{0xFF, 0xFF}))

	telecom := mf.add(&file{fid: fidTelecom, kind: kindDF})
	telecom.add(alias(fidMSISDN, msisdn))
	telecom.add(alias(fidSMSP, smsp))
	telecom.add(alias(fidSMS, smsEF))
	telecom.add(alias(fidSMSS, smss))

	gsm := mf.add(&file{fid: fidGSM, kind: kindDF})
	gsm.add(ef(fidLP, 0, accAlways, accPIN1, efLP(langs, 4)))
	gsm.add(alias(fidIMSI, imsi))
	gsm.add(ef(fidKc, 0, accPIN1, accPIN1, efKc()))
	gsm.add(alias(fidHPPLMN, hpplmn))
	gsm.add(ef(fidSST, 0, accPIN1, accADM, efGSMSST()))
	gsm.add(ef(fidBCCH, 0, accPIN1, accPIN1, filled(16, 0xFF)))
	gsm.add(alias(fidACC, acc))
	gsm.add(alias(fidFPLMN, fplmn))
	gsm.add(alias(fidLOCI, loci))
	gsm.add(alias(fidAD, ad))
	gsm.add(ef(fidPhase, 0, accAlways, accADM, []byte{0x03})) // phase 2+, TERMINAL PROFILE required
	gsm.add(alias(fidSPN, spn))
	return mf, usim
}

// fileDescriptor returns the value of tag 82 (TS 102 221 §11.1.1.4.3).
func (f *file) fileDescriptor(dst []byte) []byte {
	switch f.kind {
	case kindTransparent:
		return append(dst, 0x41, 0x21) // shareable working EF, transparent; data coding 21
	case kindLinear:
		n := f.body.records()
		return append(dst, 0x42, 0x21, byte(f.body.recLen>>8), byte(f.body.recLen), byte(n))
	default:
		return append(dst, 0x78, 0x21) // shareable DF/ADF
	}
}

// compactSC is the security condition byte of the compact format
// (ISO/IEC 7816-4 §9.3.3.2 as referenced by TS 102 221 §9.2.3): 00 always,
// FF never, 90 user authentication (PIN) with key reference group 0, and
// 9A for ADM (user authentication, SE 0A).
func compactSC(a access) byte {
	switch a {
	case accAlways:
		return 0x00
	case accPIN1:
		return 0x90
	case accADM:
		return 0x9A
	}
	return 0xFF
}

// appendFCP appends the FCP template of f (TS 102 221 §11.1.1.3).
func (c *Card) appendFCP(dst []byte, f *file) []byte {
	return tlv.AppendBERFunc(dst, tlv.TagFCP, func(b []byte) []byte {
		b = tlv.AppendBERFunc(b, 0x82, f.fileDescriptor)
		b = tlv.AppendBER(b, 0x83, []byte{byte(f.fid >> 8), byte(f.fid)})
		if f.kind == kindADF {
			b = tlv.AppendBER(b, 0x84, f.aid)
		}
		if f.kind.isDF() {
			b = tlv.AppendBERFunc(b, 0xA5, func(b []byte) []byte {
				if f.kind == kindMF {
					b = tlv.AppendBER(b, 0x80, []byte{0x71}) // UICC characteristics: clock stop allowed, no preferred level
					b = tlv.AppendBER(b, 0x87, []byte{0x00}) // supported system commands: no TERMINAL CAPABILITY
				}
				return tlv.AppendBER(b, 0x83, []byte{0x00, 0x00, 0x80, 0x00}) // available memory
			})
		}
		b = tlv.AppendBER(b, 0x8A, []byte{0x05}) // operational state, activated
		if f.kind.isDF() {
			// AM 03: read/update; DF: always/ADM.
			b = tlv.AppendBER(b, 0x8C, []byte{0x03, compactSC(accADM), compactSC(accAlways)})
			b = tlv.AppendBERFunc(b, 0xC6, func(b []byte) []byte {
				ps := byte(0x40) // ADM1 enabled
				if c.pin1.enabled {
					ps |= 0x80
				}
				b = tlv.AppendBER(b, 0x90, []byte{ps})
				b = tlv.AppendBER(b, 0x95, []byte{0x08}) // usage qualifier: user authentication, knowledge based
				b = tlv.AppendBER(b, 0x83, []byte{0x01})
				return tlv.AppendBER(b, 0x83, []byte{0x0A})
			})
			n := f.totalSize()
			return tlv.AppendBER(b, 0x81, []byte{byte(n >> 8), byte(n)}) // total file size
		}
		b = tlv.AppendBER(b, 0x8C, []byte{0x03, compactSC(f.update), compactSC(f.read)})
		n := len(f.body.data)
		b = tlv.AppendBER(b, 0x80, []byte{byte(n >> 8), byte(n)})
		b = tlv.AppendBER(b, 0x81, []byte{byte((n + 32) >> 8), byte(n + 32)})
		if f.sfi != 0 {
			return tlv.AppendBER(b, 0x88, []byte{f.sfi << 3})
		}
		return tlv.AppendBER(b, 0x88, nil)
	})
}

// gsmAC is the GSM access condition nibble (TS 51.011 §9.3): 0 ALW, 1 CHV1,
// 4..E ADM, F NEV.
func gsmAC(a access) byte {
	switch a {
	case accAlways:
		return 0x0
	case accPIN1:
		return 0x1
	case accADM:
		return 0x4
	}
	return 0xF
}

// appendGSMResponse appends the GSM SELECT response (TS 51.011 §9.2.1).
func (c *Card) appendGSMResponse(dst []byte, f *file) []byte {
	fid := []byte{byte(f.fid >> 8), byte(f.fid)}
	if f.kind.isDF() {
		typ := byte(0x02)
		if f.kind == kindMF {
			typ = 0x01
		}
		var ndf, nef byte
		for _, ch := range f.children {
			switch {
			case ch.kind == kindADF: // not visible to a GSM client
			case ch.kind.isDF():
				ndf++
			default:
				nef++
			}
		}
		chars := byte(0x01) // clock stop allowed
		if !c.pin1.enabled {
			chars |= 0x80 // CHV1 disabled
		}
		dst = append(dst, 0x00, 0x00, 0x80, 0x00, fid[0], fid[1], typ, 0, 0, 0, 0, 0, 9,
			chars, ndf, nef, 4, 0x00,
			0x80|byte(c.pin1.retries), 0x80|byte(c.puk1.retries), 0x00, 0x00)
		return dst
	}
	n := len(f.body.data)
	structure, rl := byte(0x00), byte(0)
	if f.kind == kindLinear {
		structure, rl = 0x01, byte(f.body.recLen)
	}
	return append(dst, 0x00, 0x00, byte(n>>8), byte(n), fid[0], fid[1], 0x04, 0x00,
		gsmAC(f.read)<<4|gsmAC(f.update), 0xF0, 0x44, 0x01, 0x02, structure, rl)
}

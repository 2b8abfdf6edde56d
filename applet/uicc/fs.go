package uicc

import (
	"bytes"
	"slices"

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

// file is a node of a card's file tree. The tree belongs to an fsTemplate
// and is shared read-only by every card made from it: an EF names its
// content by slot, and the card holds the contents (Card.content).
type file struct {
	fid      uint16
	kind     kind
	aid      []byte // ADF only
	sfi      byte   // 1..30, 0 = none
	parent   *file
	children []*file
	// slot indexes the EF's content in fsTemplate.shared and Card.own. DF_GSM
	// and DF_TELECOM EFs have the slot of their USIM twins, as on real cards
	// where both paths reach the same data.
	slot   uint8
	size   int // content length in bytes (EFs never grow nor shrink)
	recLen int // record length for linear fixed EFs
	read   access
	update access
}

// records is how many records a linear fixed EF has.
func (f *file) records() int {
	if f.recLen == 0 {
		return 0
	}
	return f.size / f.recLen
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
		return f.size + 32
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

// maxContents bounds the distinct EF contents of a card (30 today).
const maxContents = 32

// fsTemplate is the file tree of the cards made from profiles that agree
// on what the files hold beyond the subscriber's identities (USIM AID,
// languages, SMSC, SPN), with the contents that are the same on each of
// them. Building the tree and those contents cost most of making a card
// since every mandatory EF is there, so a profile builds its template once
// (Profile.template) and every card made from it or from its Subscriber
// copies shares it read-only; a card writes to its own copy of a content
// (Card.writable).
type fsTemplate struct {
	mf, usim *file
	// shared are the contents by slot; nil for the per-card files.
	shared [maxContents][]byte
	// The per-card EFs, whose contents New builds from the card's
	// profile: EF_ICCID, EF_IMSI, EF_ACC, EF_LOCI, EF_PSLOCI, EF_MSISDN.
	iccid, imsi, acc, loci, psloci, msisdn *file
	perCard                                int // their sizes added up
	// What the shared contents were built from (copies).
	aid       []byte
	langs     []string
	smsc, spn string
	slots     uint8
}

// fits reports whether the template's shared contents are those p makes.
func (t *fsTemplate) fits(p *Profile) bool {
	return bytes.Equal(t.aid, p.USIMAID) && slices.Equal(t.langs, p.Languages) && t.smsc == p.SMSC && t.spn == p.SPN
}

// ef adds a transparent EF with content data shared by every card.
func (t *fsTemplate) ef(fid uint16, sfi byte, read, update access, data []byte) *file {
	f := t.newEF(fid, kindTransparent, sfi, read, update, len(data), 0)
	t.shared[f.slot] = data
	return f
}

// efRec adds a linear fixed EF whose records, padded with FF to recLen,
// are shared by every card.
func (t *fsTemplate) efRec(fid uint16, sfi byte, read, update access, recLen int, recs ...[]byte) *file {
	data := make([]byte, recLen*len(recs))
	for i, r := range recs {
		rec := data[i*recLen : (i+1)*recLen]
		n := copy(rec, r)
		for j := n; j < recLen; j++ {
			rec[j] = 0xFF
		}
	}
	f := t.newEF(fid, kindLinear, sfi, read, update, len(data), recLen)
	t.shared[f.slot] = data
	return f
}

// own adds an EF of size bytes whose content each card builds.
func (t *fsTemplate) own(fid uint16, k kind, sfi byte, read, update access, size, recLen int) *file {
	t.perCard += size
	return t.newEF(fid, k, sfi, read, update, size, recLen)
}

func (t *fsTemplate) newEF(fid uint16, k kind, sfi byte, read, update access, size, recLen int) *file {
	if t.slots == maxContents {
		panic("uicc: more than maxContents EF contents")
	}
	f := &file{fid: fid, kind: k, sfi: sfi, read: read, update: update, slot: t.slots, size: size, recLen: recLen}
	t.slots++
	return f
}

func alias(fid uint16, of *file) *file {
	return &file{fid: fid, kind: of.kind, read: of.read, update: of.update, slot: of.slot, size: of.size, recLen: of.recLen}
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
	msisdnRecLen = msisdnAlpha + 14
	iccidLen     = 10
	imsiLen      = 9
	accLen       = 2
	lociLen      = 11
	psLociLen    = 14
)

// newTemplate builds the file tree of a profile's cards: the MF with
// EF_ICCID, EF_DIR, EF_PL and EF_ARR (TS 102 221 §13); ADF_USIM with every
// EF that TS 31.102 §4.2 makes mandatory and those the profile fills
// (MSISDN, SMSP, SPN, SMS, SMSS); DF_TELECOM and DF_GSM for 2G clients,
// DF_GSM with the EFs that TS 51.011 §10.3 makes mandatory, sharing the
// USIM's contents where the two specifications describe the same data
// (IMSI, ACC, FPLMN, LOCI, AD, HPPLMN, SPN). mandatoryFiles in the tests
// lists them with their structure and size. The contents that depend on
// the subscriber (ICCID, IMSI, MSISDN) are left to each card
// (Card.personalize).
func newTemplate(p *Profile) *fsTemplate {
	t := &fsTemplate{aid: bytes.Clone(p.USIMAID), langs: slices.Clone(p.Languages), smsc: p.SMSC, spn: p.SPN}
	mf := &file{fid: fidMF, kind: kindMF}
	langs := p.Languages
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	arr := arrRecords()
	t.iccid = mf.add(t.own(fidICCID, kindTransparent, 0x02, accAlways, accNever, iccidLen, 0))
	mf.add(t.efRec(fidDIR, 0x1E, accAlways, accADM, dirRecLen, dirRecord(p.USIMAID, "USIM", dirRecLen)))
	mf.add(t.ef(fidPL, 0x05, accAlways, accPIN1, efLanguages(langs, 4)))
	mf.add(t.efRec(fidARRMF, 0x06, accAlways, accADM, arrRecLen, arr...))

	usim := mf.add(&file{fid: fidADF, kind: kindADF, aid: t.aid}) // the template's own copy: the profile's slice is the caller's
	usim.add(t.ef(fidLI, 0x02, accAlways, accPIN1, efLanguages(langs, 4)))
	usim.add(t.efRec(fidARR, 0x17, accAlways, accADM, arrRecLen, arr...))
	t.imsi = usim.add(t.own(fidIMSI, kindTransparent, 0x07, accPIN1, accADM, imsiLen, 0))
	usim.add(t.ef(fidKeys, 0x08, accPIN1, accPIN1, efKeys()))
	usim.add(t.ef(fidKeysPS, 0x09, accPIN1, accPIN1, efKeys()))
	hpplmn := usim.add(t.ef(fidHPPLMN, 0x12, accPIN1, accADM, []byte{0x05})) // search every 5×6 minutes
	usim.add(t.ef(fidUST, 0x04, accPIN1, accADM, efUST()))
	t.acc = usim.add(t.own(fidACC, kindTransparent, 0x06, accPIN1, accADM, accLen, 0))
	fplmn := usim.add(t.ef(fidFPLMN, 0x0D, accPIN1, accPIN1, filled(12, 0xFF))) // room for 4 PLMNs, none forbidden
	t.loci = usim.add(t.own(fidLOCI, kindTransparent, 0x0B, accPIN1, accPIN1, lociLen, 0))
	ad := usim.add(t.ef(fidAD, 0x03, accAlways, accADM, efAD(2)))
	usim.add(t.efRec(fidECC, 0x01, accAlways, accADM, eccRecLen, efECC("112"), efECC("911")))
	t.psloci = usim.add(t.own(fidPSLOCI, kindTransparent, 0x0C, accPIN1, accPIN1, psLociLen, 0))
	usim.add(t.ef(fidStartHFN, 0x0F, accPIN1, accPIN1, []byte{0xF0, 0x00, 0x00, 0xF0, 0x00, 0x00}))
	usim.add(t.ef(fidThreshold, 0x10, accPIN1, accADM, []byte{0xF0, 0x10, 0x00}))
	usim.add(t.ef(fidNETPAR, 0, accPIN1, accPIN1, efNETPAR()))
	t.msisdn = usim.add(t.own(fidMSISDN, kindLinear, 0, accPIN1, accPIN1, msisdnRecLen*msisdnRecCnt, msisdnRecLen))
	smsp := usim.add(t.efRec(fidSMSP, 0, accPIN1, accPIN1, smspAlpha+28, smspRecord(p.SMSC, smspAlpha)))
	spn := usim.add(t.ef(fidSPN, 0, accAlways, accADM, efSPN(p.SPN)))
	sms := make([][]byte, smsRecords)
	for i := range sms {
		sms[i] = []byte{0x00} // status byte 00: free record (TS 31.102 §4.2.25)
	}
	smsEF := usim.add(t.efRec(fidSMS, 0, accPIN1, accPIN1, smsRecLen, sms...))
	smss := usim.add(t.ef(fidSMSS, 0, accPIN1, accPIN1, []byte{0xFF, 0xFF}))

	telecom := mf.add(&file{fid: fidTelecom, kind: kindDF})
	telecom.add(alias(fidMSISDN, t.msisdn))
	telecom.add(alias(fidSMSP, smsp))
	telecom.add(alias(fidSMS, smsEF))
	telecom.add(alias(fidSMSS, smss))

	gsm := mf.add(&file{fid: fidGSM, kind: kindDF})
	gsm.add(t.ef(fidLP, 0, accAlways, accPIN1, efLP(langs, 4)))
	gsm.add(alias(fidIMSI, t.imsi))
	gsm.add(t.ef(fidKc, 0, accPIN1, accPIN1, efKc()))
	gsm.add(alias(fidHPPLMN, hpplmn))
	gsm.add(t.ef(fidSST, 0, accPIN1, accADM, efGSMSST()))
	gsm.add(t.ef(fidBCCH, 0, accPIN1, accPIN1, filled(16, 0xFF)))
	gsm.add(alias(fidACC, t.acc))
	gsm.add(alias(fidFPLMN, fplmn))
	gsm.add(alias(fidLOCI, t.loci))
	gsm.add(alias(fidAD, ad))
	gsm.add(t.ef(fidPhase, 0, accAlways, accADM, []byte{0x03})) // phase 2+, TERMINAL PROFILE required
	gsm.add(alias(fidSPN, spn))
	t.mf, t.usim = mf, usim
	return t
}

// personalize gives the card the contents of its per-card EFs, made from
// its profile, in one allocation.
func (c *Card) personalize(p *Profile) {
	t := c.fs
	buf := make([]byte, 0, t.perCard)
	put := func(f *file, b []byte) []byte {
		c.own[f.slot] = b[len(b)-f.size : len(b) : len(b)]
		return b
	}
	buf = put(t.iccid, appendSwappedBCD(buf, p.ICCID, iccidLen))
	buf = put(t.imsi, appendIMSI(buf, p.IMSI))
	buf = put(t.acc, appendACC(buf, p.IMSI))
	buf = put(t.loci, appendLOCI(buf, p.IMSI))
	buf = put(t.psloci, appendPSLOCI(buf, p.IMSI))
	start := len(buf)
	if p.MSISDN != "" {
		buf = appendMSISDNRecord(buf, p.MSISDN, msisdnAlpha)
	}
	for len(buf) < start+t.msisdn.size {
		buf = append(buf, 0xFF)
	}
	put(t.msisdn, buf)
}

// content is f's content on the card: its own copy, or the template's.
func (c *Card) content(f *file) []byte {
	if b := c.own[f.slot]; b != nil {
		return b
	}
	return c.fs.shared[f.slot]
}

// writable is f's content as the card may change it: the template's is
// copied the first time.
func (c *Card) writable(f *file) []byte {
	if b := c.own[f.slot]; b != nil {
		return b
	}
	b := bytes.Clone(c.fs.shared[f.slot])
	c.own[f.slot] = b
	return b
}

// fileDescriptor returns the value of tag 82 (TS 102 221 §11.1.1.4.3).
func (f *file) fileDescriptor(dst []byte) []byte {
	switch f.kind {
	case kindTransparent:
		return append(dst, 0x41, 0x21) // shareable working EF, transparent; data coding 21
	case kindLinear:
		n := f.records()
		return append(dst, 0x42, 0x21, byte(f.recLen>>8), byte(f.recLen), byte(n))
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
		n := f.size
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
	n := f.size
	structure, rl := byte(0x00), byte(0)
	if f.kind == kindLinear {
		structure, rl = 0x01, byte(f.recLen)
	}
	return append(dst, 0x00, 0x00, byte(n>>8), byte(n), fid[0], fid[1], 0x04, 0x00,
		gsmAC(f.read)<<4|gsmAC(f.update), 0xF0, 0x44, 0x01, 0x02, structure, rl)
}

package apdu

// ClassKind is what a class byte says about the command set in use
// (ISO/IEC 7816-4 §5.4.1, ETSI TS 102 221 §10.1.1).
type ClassKind uint8

// Class kinds.
const (
	// ClassInterindustry is 0X..7X: commands defined by ISO/IEC 7816-4
	// (SELECT, READ BINARY, VERIFY, GET RESPONSE …).
	ClassInterindustry ClassKind = iota + 1
	// ClassProprietary is 8X and CX..EX, which TS 102 221 uses for its own
	// commands (STATUS, TERMINAL PROFILE, ENVELOPE, FETCH, TERMINAL
	// RESPONSE …) and GlobalPlatform for card management.
	ClassProprietary
	// ClassGSM is A0, the 2G SIM command set of 3GPP TS 51.011 (GSM 11.11).
	ClassGSM
	// ClassReserved is 9X and BX, not used by a UICC.
	ClassReserved
	// ClassInvalid is FF, reserved for PPS (ISO/IEC 7816-3 §9).
	ClassInvalid
)

// String names the kind.
func (k ClassKind) String() string {
	switch k {
	case ClassInterindustry:
		return "interindustry (ISO/IEC 7816-4)"
	case ClassProprietary:
		return "proprietary (ETSI TS 102 221 / GlobalPlatform)"
	case ClassGSM:
		return "GSM (3GPP TS 51.011)"
	case ClassReserved:
		return "reserved"
	case ClassInvalid:
		return "invalid (PPS)"
	}
	return "unknown"
}

// Class is a decoded class byte.
type Class struct {
	Kind ClassKind
	// Channel is the logical channel, 0..19.
	Channel int
	// SecureMessaging is the secure messaging indication: 0 none, 1
	// proprietary, 2 ISO without header authentication, 3 ISO with header
	// authentication (for further interindustry classes only 0 or 2).
	SecureMessaging int
	// Chaining is the command chaining bit (b5): more commands follow.
	Chaining bool
}

// ClassOf decodes a class byte per ETSI TS 102 221 §10.1.1 and ISO/IEC
// 7816-4 §5.4.1: first interindustry coding (b8b7b6 = 000, and TS 102 221's
// 8X) carries the channel in b2b1 and SM in b4b3; further interindustry
// coding (b8b7 = 01, and CX..FX) carries channel 4+b4..b1 and SM in b6.
func ClassOf(cla byte) Class {
	switch {
	case cla == 0xFF:
		return Class{Kind: ClassInvalid}
	case cla&0xF0 == 0xA0:
		return Class{Kind: ClassGSM}
	case cla&0xE0 == 0x00 || cla&0xE0 == 0x80:
		k := ClassInterindustry
		if cla&0x80 != 0 {
			k = ClassProprietary
			if cla&0xF0 == 0x90 {
				return Class{Kind: ClassReserved}
			}
		}
		return Class{Kind: k, Channel: int(cla & 0x03), SecureMessaging: int(cla>>2) & 0x03, Chaining: cla&0x10 != 0}
	case cla&0xC0 == 0x40 || cla&0xC0 == 0xC0:
		k := ClassInterindustry
		if cla&0x80 != 0 {
			k = ClassProprietary
		}
		sm := 0
		if cla&0x20 != 0 {
			sm = 2
		}
		return Class{Kind: k, Channel: 4 + int(cla&0x0F), SecureMessaging: sm, Chaining: cla&0x10 != 0}
	default: // 0xB0..0xBF
		return Class{Kind: ClassReserved}
	}
}

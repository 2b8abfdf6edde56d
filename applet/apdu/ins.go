package apdu

// Instruction bytes a UICC handles (ETSI TS 102 221 §10.1.2 table 10.5,
// ISO/IEC 7816-4 §5.4.2, 3GPP TS 51.011 §9.2 for the GSM class).
const (
	INSSelect               byte = 0xA4
	INSStatus               byte = 0xF2
	INSReadBinary           byte = 0xB0
	INSUpdateBinary         byte = 0xD6
	INSReadRecord           byte = 0xB2
	INSUpdateRecord         byte = 0xDC
	INSSearchRecord         byte = 0xA2
	INSIncrease             byte = 0x32
	INSRetrieveData         byte = 0xCB
	INSSetData              byte = 0xDB
	INSVerifyPIN            byte = 0x20
	INSChangePIN            byte = 0x24
	INSDisablePIN           byte = 0x26
	INSEnablePIN            byte = 0x28
	INSUnblockPIN           byte = 0x2C
	INSDeactivateFile       byte = 0x04
	INSActivateFile         byte = 0x44
	INSAuthenticate         byte = 0x88
	INSAuthenticateOdd      byte = 0x89
	INSGetChallenge         byte = 0x84
	INSTerminalCapability   byte = 0xAA
	INSTerminalProfile      byte = 0x10
	INSEnvelope             byte = 0xC2
	INSFetch                byte = 0x12
	INSTerminalResponse     byte = 0x14
	INSManageChannel        byte = 0x70
	INSManageSecureChannel  byte = 0x73
	INSTransactData         byte = 0x75
	INSSuspendUICC          byte = 0x76
	INSGetIdentity          byte = 0x78
	INSExchangeCapabilities byte = 0x7A
	INSGetResponse          byte = 0xC0
	INSGetData              byte = 0xCA
	INSSleep                byte = 0xFA // GSM class only
)

var insNames = map[byte]string{
	INSSelect:               "SELECT",
	INSStatus:               "STATUS",
	INSReadBinary:           "READ BINARY",
	INSUpdateBinary:         "UPDATE BINARY",
	INSReadRecord:           "READ RECORD",
	INSUpdateRecord:         "UPDATE RECORD",
	INSSearchRecord:         "SEARCH RECORD",
	INSIncrease:             "INCREASE",
	INSRetrieveData:         "RETRIEVE DATA",
	INSSetData:              "SET DATA",
	INSVerifyPIN:            "VERIFY PIN",
	INSChangePIN:            "CHANGE PIN",
	INSDisablePIN:           "DISABLE PIN",
	INSEnablePIN:            "ENABLE PIN",
	INSUnblockPIN:           "UNBLOCK PIN",
	INSDeactivateFile:       "DEACTIVATE FILE",
	INSActivateFile:         "ACTIVATE FILE",
	INSAuthenticate:         "AUTHENTICATE",
	INSAuthenticateOdd:      "AUTHENTICATE",
	INSGetChallenge:         "GET CHALLENGE",
	INSTerminalCapability:   "TERMINAL CAPABILITY",
	INSTerminalProfile:      "TERMINAL PROFILE",
	INSEnvelope:             "ENVELOPE",
	INSFetch:                "FETCH",
	INSTerminalResponse:     "TERMINAL RESPONSE",
	INSManageChannel:        "MANAGE CHANNEL",
	INSManageSecureChannel:  "MANAGE SECURE CHANNEL",
	INSTransactData:         "TRANSACT DATA",
	INSSuspendUICC:          "SUSPEND UICC",
	INSGetIdentity:          "GET IDENTITY",
	INSExchangeCapabilities: "EXCHANGE CAPABILITIES",
	INSGetResponse:          "GET RESPONSE",
	INSGetData:              "GET DATA",
}

// GSM class (A0) names where 3GPP TS 51.011 §9.2 differs.
var gsmNames = map[byte]string{
	0x20:        "VERIFY CHV",
	0x24:        "CHANGE CHV",
	0x26:        "DISABLE CHV",
	0x28:        "ENABLE CHV",
	0x2C:        "UNBLOCK CHV",
	0x04:        "INVALIDATE",
	0x44:        "REHABILITATE",
	0x88:        "RUN GSM ALGORITHM",
	0xA2:        "SEEK",
	INSSleep:    "SLEEP",
	INSStatus:   "STATUS",
	INSSelect:   "SELECT",
	INSFetch:    "FETCH",
	0xC2:        "ENVELOPE",
	0x10:        "TERMINAL PROFILE",
	0x14:        "TERMINAL RESPONSE",
	0xC0:        "GET RESPONSE",
	0xB0:        "READ BINARY",
	0xD6:        "UPDATE BINARY",
	0xB2:        "READ RECORD",
	0xDC:        "UPDATE RECORD",
	INSIncrease: "INCREASE",
}

// GlobalPlatform card management commands (GPC 2.3 §11) in a proprietary class.
var gpNames = map[byte]string{
	0xE6: "INSTALL",
	0xE8: "LOAD",
	0xE4: "DELETE",
	0xD8: "PUT KEY",
	0xF0: "SET STATUS",
	0xE2: "STORE DATA",
	0x50: "INITIALIZE UPDATE",
	0x82: "EXTERNAL AUTHENTICATE",
}

// InsName returns the name of the instruction ins in class cla, e.g.
// "SELECT", "TERMINAL PROFILE", "VERIFY CHV" (GSM class), or "" when the
// instruction is not one a UICC knows.
func InsName(cla, ins byte) string {
	k := ClassOf(cla).Kind
	if k == ClassGSM {
		return gsmNames[ins]
	}
	if k == ClassProprietary {
		if n, ok := gpNames[ins]; ok && ins != INSStatus {
			return n
		}
		if ins == INSStatus && cla&0xF0 == 0x80 {
			return "STATUS"
		}
	}
	return insNames[ins]
}

// Name returns the instruction name of c (see InsName), or "INS xx".
func (c *Command) Name() string {
	if n := InsName(c.CLA, c.INS); n != "" {
		return n
	}
	const hexdigits = "0123456789ABCDEF"
	return "INS " + string([]byte{hexdigits[c.INS>>4], hexdigits[c.INS&0x0F]})
}

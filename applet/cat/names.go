package cat

import (
	"fmt"

	"github.com/simlab-dev/simlab/applet/tlv"
)

// COMPREHENSION-TLV tag values of the simple objects, without the CR flag
// (ETSI TS 102 223 §9.3; 3GPP TS 31.111 §9.3 for 13, 14, 16, 1B, 62).
const (
	TagCommandDetails     tlv.CTLVTag = 0x01 // §8.6
	TagDeviceIdentities   tlv.CTLVTag = 0x02 // §8.7
	TagResult             tlv.CTLVTag = 0x03 // §8.12
	TagDuration           tlv.CTLVTag = 0x04 // §8.8
	TagAlphaIdentifier    tlv.CTLVTag = 0x05 // §8.2
	TagAddress            tlv.CTLVTag = 0x06 // §8.1
	TagSMSTPDU            tlv.CTLVTag = 0x0B // §8.13 (3GPP-SMS TPDU)
	TagTextString         tlv.CTLVTag = 0x0D // §8.15
	TagTone               tlv.CTLVTag = 0x0E // §8.16
	TagItem               tlv.CTLVTag = 0x0F // §8.9
	TagItemIdentifier     tlv.CTLVTag = 0x10 // §8.10
	TagResponseLength     tlv.CTLVTag = 0x11 // §8.11
	TagFileList           tlv.CTLVTag = 0x12 // §8.18
	TagLocationInfo       tlv.CTLVTag = 0x13 // TS 31.111 §8.19
	TagIMEI               tlv.CTLVTag = 0x14 // TS 31.111 §8.20
	TagHelpRequest        tlv.CTLVTag = 0x15 // §8.21
	TagNMR                tlv.CTLVTag = 0x16 // TS 31.111 §8.22
	TagDefaultText        tlv.CTLVTag = 0x17 // §8.23
	TagItemsNextAction    tlv.CTLVTag = 0x18 // §8.24
	TagEventList          tlv.CTLVTag = 0x19 // §8.25
	TagLocationStatus     tlv.CTLVTag = 0x1B // §8.27
	TagIconIdentifier     tlv.CTLVTag = 0x1E // §8.31
	TagItemIconList       tlv.CTLVTag = 0x1F // §8.32
	TagTimerIdentifier    tlv.CTLVTag = 0x24 // §8.37
	TagTimerValue         tlv.CTLVTag = 0x25 // §8.38
	TagDateTimeZone       tlv.CTLVTag = 0x26 // §8.39
	TagImmediateResponse  tlv.CTLVTag = 0x2B // §8.43
	TagLanguage           tlv.CTLVTag = 0x2D // §8.45
	TagAccessTechnology   tlv.CTLVTag = 0x3F // §8.61
	TagTextAttribute      tlv.CTLVTag = 0x50 // §8.72
	TagFrameIdentifier    tlv.CTLVTag = 0x68 // §8.80
	TagIMEISV             tlv.CTLVTag = 0x62 // TS 31.111 §8.87
	TagBatteryState       tlv.CTLVTag = 0x63 // §8.77
	TagNetworkSearchMode  tlv.CTLVTag = 0x65 // §8.76
	TagItemTextAttributes tlv.CTLVTag = 0x51 // §8.73
)

var tagNames = map[tlv.CTLVTag]string{
	0x01: "command details", 0x02: "device identities", 0x03: "result", 0x04: "duration",
	0x05: "alpha identifier", 0x06: "address", 0x07: "capability configuration parameters",
	0x08: "subaddress", 0x09: "SS string", 0x0A: "USSD string", 0x0B: "SMS TPDU",
	0x0C: "cell broadcast page", 0x0D: "text string", 0x0E: "tone", 0x0F: "item",
	0x10: "item identifier", 0x11: "response length", 0x12: "file list",
	0x13: "location information", 0x14: "IMEI", 0x15: "help request",
	0x16: "network measurement results", 0x17: "default text", 0x18: "items next action indicator",
	0x19: "event list", 0x1A: "cause", 0x1B: "location status", 0x1C: "transaction identifier",
	0x1D: "BCCH channel list", 0x1E: "icon identifier", 0x1F: "item icon identifier list",
	0x20: "card reader status", 0x21: "card ATR", 0x22: "C-APDU", 0x23: "R-APDU",
	0x24: "timer identifier", 0x25: "timer value", 0x26: "date-time and time zone",
	0x27: "call control requested action", 0x28: "AT command", 0x29: "AT response",
	0x2A: "BC repeat indicator", 0x2B: "immediate response", 0x2C: "DTMF string",
	0x2D: "language", 0x2E: "timing advance", 0x2F: "AID", 0x30: "browser identity",
	0x31: "URL", 0x32: "bearer", 0x33: "provisioning reference file",
	0x34: "browser termination cause", 0x35: "bearer description", 0x36: "channel data",
	0x37: "channel data length", 0x38: "channel status", 0x39: "buffer size",
	0x3A: "card reader identifier", 0x3B: "file update information",
	0x3C: "UICC/terminal interface transport level", 0x3E: "other address",
	0x3F: "access technology", 0x40: "display parameters", 0x41: "service record",
	0x42: "device filter", 0x43: "service search", 0x44: "attribute information",
	0x45: "service availability", 0x46: "ESN", 0x47: "network access name",
	0x48: "CDMA-SMS-TPDU", 0x49: "remote entity address", 0x50: "text attribute",
	0x51: "item text attribute list", 0x52: "PDP context activation parameter",
	0x62: "IMEISV", 0x63: "battery state", 0x64: "browsing status",
	0x65: "network search mode", 0x66: "frame layout", 0x67: "frames information",
	0x68: "frame identifier", 0x6D: "MEID", 0x70: "last envelope",
}

// TagName returns the TS 102 223 §9.3 name of a simple object tag.
func TagName(t tlv.CTLVTag) string {
	if n, ok := tagNames[t]; ok {
		return n
	}
	return fmt.Sprintf("tag %02X", uint16(t))
}

// CommandType is the type of a proactive command (ETSI TS 102 223 §9.4).
type CommandType byte

// Proactive command types (TS 102 223 §9.4).
const (
	CmdRefresh              CommandType = 0x01
	CmdMoreTime             CommandType = 0x02
	CmdPollInterval         CommandType = 0x03
	CmdPollingOff           CommandType = 0x04
	CmdSetUpEventList       CommandType = 0x05
	CmdSetUpCall            CommandType = 0x10
	CmdSendSS               CommandType = 0x11
	CmdSendUSSD             CommandType = 0x12
	CmdSendShortMessage     CommandType = 0x13
	CmdSendDTMF             CommandType = 0x14
	CmdLaunchBrowser        CommandType = 0x15
	CmdPlayTone             CommandType = 0x20
	CmdDisplayText          CommandType = 0x21
	CmdGetInkey             CommandType = 0x22
	CmdGetInput             CommandType = 0x23
	CmdSelectItem           CommandType = 0x24
	CmdSetUpMenu            CommandType = 0x25
	CmdProvideLocalInfo     CommandType = 0x26
	CmdTimerManagement      CommandType = 0x27
	CmdSetUpIdleModeText    CommandType = 0x28
	CmdPerformCardAPDU      CommandType = 0x30
	CmdPowerOnCard          CommandType = 0x31
	CmdPowerOffCard         CommandType = 0x32
	CmdGetReaderStatus      CommandType = 0x33
	CmdRunATCommand         CommandType = 0x34
	CmdLanguageNotification CommandType = 0x35
	CmdOpenChannel          CommandType = 0x40
	CmdCloseChannel         CommandType = 0x41
	CmdReceiveData          CommandType = 0x42
	CmdSendData             CommandType = 0x43
	CmdGetChannelStatus     CommandType = 0x44
	CmdEndOfSession         CommandType = 0x81 // "end of the proactive UICC session", only in a TERMINAL RESPONSE context
)

var commandNames = map[CommandType]string{
	0x01: "REFRESH", 0x02: "MORE TIME", 0x03: "POLL INTERVAL", 0x04: "POLLING OFF",
	0x05: "SET UP EVENT LIST", 0x10: "SET UP CALL", 0x11: "SEND SS", 0x12: "SEND USSD",
	0x13: "SEND SHORT MESSAGE", 0x14: "SEND DTMF", 0x15: "LAUNCH BROWSER",
	0x16: "GEOGRAPHICAL LOCATION REQUEST", 0x20: "PLAY TONE", 0x21: "DISPLAY TEXT",
	0x22: "GET INKEY", 0x23: "GET INPUT", 0x24: "SELECT ITEM", 0x25: "SET UP MENU",
	0x26: "PROVIDE LOCAL INFORMATION", 0x27: "TIMER MANAGEMENT", 0x28: "SET UP IDLE MODE TEXT",
	0x30: "PERFORM CARD APDU", 0x31: "POWER ON CARD", 0x32: "POWER OFF CARD",
	0x33: "GET READER STATUS", 0x34: "RUN AT COMMAND", 0x35: "LANGUAGE NOTIFICATION",
	0x40: "OPEN CHANNEL", 0x41: "CLOSE CHANNEL", 0x42: "RECEIVE DATA", 0x43: "SEND DATA",
	0x44: "GET CHANNEL STATUS", 0x45: "SERVICE SEARCH", 0x46: "GET SERVICE INFORMATION",
	0x47: "DECLARE SERVICE", 0x50: "SET FRAMES", 0x51: "GET FRAMES STATUS",
	0x60: "RETRIEVE MULTIMEDIA MESSAGE", 0x61: "SUBMIT MULTIMEDIA MESSAGE",
	0x62: "DISPLAY MULTIMEDIA MESSAGE", 0x70: "ACTIVATE", 0x71: "CONTACTLESS STATE CHANGED",
	0x72: "COMMAND CONTAINER", 0x73: "ENCAPSULATED SESSION CONTROL",
	0x81: "end of the proactive UICC session",
}

// String returns the TS 102 223 §9.4 name, e.g. "DISPLAY TEXT".
func (c CommandType) String() string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	return fmt.Sprintf("command type %02X", byte(c))
}

// Device is a device identity (ETSI TS 102 223 §8.7).
type Device byte

// Device identities (TS 102 223 §8.7).
const (
	DeviceKeypad   Device = 0x01
	DeviceDisplay  Device = 0x02
	DeviceEarpiece Device = 0x03
	DeviceUICC     Device = 0x81
	DeviceTerminal Device = 0x82
	DeviceNetwork  Device = 0x83
)

// String returns the TS 102 223 §8.7 name.
func (d Device) String() string {
	switch {
	case d == DeviceKeypad:
		return "keypad"
	case d == DeviceDisplay:
		return "display"
	case d == DeviceEarpiece:
		return "earpiece"
	case d >= 0x10 && d <= 0x17:
		return fmt.Sprintf("additional card reader %d", byte(d)-0x10)
	case d >= 0x21 && d <= 0x27:
		return fmt.Sprintf("channel %d", byte(d)-0x20)
	case d == DeviceUICC:
		return "UICC"
	case d == DeviceTerminal:
		return "terminal"
	case d == DeviceNetwork:
		return "network"
	}
	return fmt.Sprintf("device %02X", byte(d))
}

// GeneralResult is the first byte of a result object (ETSI TS 102 223
// §8.12; 3GPP TS 31.111 §8.12 for the values reserved for GSM/3G).
type GeneralResult byte

// General results (TS 102 223 §8.12).
const (
	ResultOK                     GeneralResult = 0x00 // command performed successfully
	ResultPartialComprehension   GeneralResult = 0x01 // command performed with partial comprehension
	ResultMissingInformation     GeneralResult = 0x02 // command performed, with missing information
	ResultRefreshAdditionalEFs   GeneralResult = 0x03 // REFRESH performed with additional EFs read
	ResultIconNotDisplayed       GeneralResult = 0x04 // performed successfully, but requested icon could not be displayed
	ResultModifiedByCallControl  GeneralResult = 0x05 // command performed, but modified by call control by NAA
	ResultLimitedService         GeneralResult = 0x06 // command performed successfully, limited service
	ResultWithModification       GeneralResult = 0x07 // command performed with modification
	ResultRefreshNAANotActive    GeneralResult = 0x08 // REFRESH performed but indicated NAA was not active
	ResultToneNotPlayed          GeneralResult = 0x09 // command performed successfully, tone not played
	ResultSessionTerminated      GeneralResult = 0x10 // proactive UICC session terminated by the user
	ResultBackwardMove           GeneralResult = 0x11 // backward move in the proactive UICC session requested by the user
	ResultNoResponse             GeneralResult = 0x12 // no response from user
	ResultHelpRequired           GeneralResult = 0x13 // help information required by the user
	ResultUSSDSSTerminated       GeneralResult = 0x14 // USSD or SS transaction terminated by the user (TS 31.111)
	ResultTerminalUnable         GeneralResult = 0x20 // terminal currently unable to process command
	ResultNetworkUnable          GeneralResult = 0x21 // network currently unable to process command
	ResultUserNotAccept          GeneralResult = 0x22 // user did not accept the proactive command
	ResultUserClearedCall        GeneralResult = 0x23 // user cleared down call before connection or network release
	ResultTimerContradiction     GeneralResult = 0x24 // action in contradiction with the current timer state
	ResultCallControlTemporary   GeneralResult = 0x25 // interaction with call control by NAA, temporary problem
	ResultBrowserError           GeneralResult = 0x26 // launch browser generic error code
	ResultMMSTemporary           GeneralResult = 0x27 // MMS temporary problem
	ResultBeyondCapabilities     GeneralResult = 0x30 // command beyond terminal's capabilities
	ResultTypeNotUnderstood      GeneralResult = 0x31 // command type not understood by terminal
	ResultDataNotUnderstood      GeneralResult = 0x32 // command data not understood by terminal
	ResultNumberNotKnown         GeneralResult = 0x33 // command number not known by terminal
	ResultSSReturnError          GeneralResult = 0x34 // SS Return Error (TS 31.111)
	ResultSMSRPError             GeneralResult = 0x35 // SMS RP-ERROR (TS 31.111)
	ResultValuesMissing          GeneralResult = 0x36 // error, required values are missing
	ResultUSSDReturnError        GeneralResult = 0x37 // USSD Return Error (TS 31.111)
	ResultMultipleCardError      GeneralResult = 0x38 // MultipleCard commands error
	ResultCallControlPermanent   GeneralResult = 0x39 // interaction with call control or MO SM control by NAA, permanent problem
	ResultBIPError               GeneralResult = 0x3A // bearer independent protocol error
	ResultAccessTechnologyUnable GeneralResult = 0x3B // access technology unable to process command
	ResultFramesError            GeneralResult = 0x3C // frames error
	ResultMMSError               GeneralResult = 0x3D // MMS error
)

var resultNames = map[GeneralResult]string{
	0x00: "command performed successfully",
	0x01: "command performed with partial comprehension",
	0x02: "command performed, with missing information",
	0x03: "REFRESH performed with additional EFs read",
	0x04: "command performed successfully, but requested icon could not be displayed",
	0x05: "command performed, but modified by call control by NAA",
	0x06: "command performed successfully, limited service",
	0x07: "command performed with modification",
	0x08: "REFRESH performed but indicated NAA was not active",
	0x09: "command performed successfully, tone not played",
	0x10: "proactive UICC session terminated by the user",
	0x11: "backward move in the proactive UICC session requested by the user",
	0x12: "no response from user",
	0x13: "help information required by the user",
	0x14: "USSD or SS transaction terminated by the user",
	0x20: "terminal currently unable to process command",
	0x21: "network currently unable to process command",
	0x22: "user did not accept the proactive command",
	0x23: "user cleared down call before connection or network release",
	0x24: "action in contradiction with the current timer state",
	0x25: "interaction with call control by NAA, temporary problem",
	0x26: "launch browser generic error code",
	0x27: "MMS temporary problem",
	0x30: "command beyond terminal's capabilities",
	0x31: "command type not understood by terminal",
	0x32: "command data not understood by terminal",
	0x33: "command number not known by terminal",
	0x34: "SS Return Error",
	0x35: "SMS RP-ERROR",
	0x36: "error, required values are missing",
	0x37: "USSD Return Error",
	0x38: "MultipleCard commands error",
	0x39: "interaction with call control by NAA or MO short message control by NAA, permanent problem",
	0x3A: "bearer independent protocol error",
	0x3B: "access technology unable to process command",
	0x3C: "frames error",
	0x3D: "MMS error",
}

// String returns the TS 102 223 §8.12 wording.
func (r GeneralResult) String() string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	return fmt.Sprintf("reserved result %02X", byte(r))
}

// Success reports whether r is one of the "command performed" results
// (0x, TS 102 223 §8.12).
func (r GeneralResult) Success() bool { return r < 0x10 }

// Additional information for ResultTerminalUnable (TS 102 223 §8.12.2;
// TS 31.111 §8.12.2 for 03 and 08).
const (
	CauseNoSpecificCause  byte = 0x00
	CauseScreenBusy       byte = 0x01
	CauseBusyOnCall       byte = 0x02
	CauseBusyOnSS         byte = 0x03
	CauseNoService        byte = 0x04
	CauseAccessControlBar byte = 0x05
	CauseRadioResource    byte = 0x06
	CauseNotInSpeechCall  byte = 0x07
	CauseBusyOnUSSD       byte = 0x08
	CauseBusyOnSendDTMF   byte = 0x09
	CauseNoNAAActive      byte = 0x0A
)

var terminalCauses = map[byte]string{
	0x00: "no specific cause can be given",
	0x01: "screen is busy",
	0x02: "terminal currently busy on call",
	0x03: "ME currently busy on SS transaction",
	0x04: "no service",
	0x05: "access control class bar",
	0x06: "radio resource not granted",
	0x07: "not in speech call",
	0x08: "ME currently busy on USSD transaction",
	0x09: "terminal currently busy on SEND DTMF command",
	0x0A: "no NAA active",
}

var bipCauses = map[byte]string{
	0x00: "no specific cause can be given",
	0x01: "no channel available",
	0x02: "channel closed",
	0x03: "channel identifier not valid",
	0x04: "requested buffer size not available",
	0x05: "security error (unsuccessful authentication)",
	0x06: "requested UICC/terminal interface transport level not available",
	0x07: "remote device is not reachable",
	0x08: "service error",
	0x09: "service identifier unknown",
	0x10: "port not available",
	0x11: "launch parameters missing or incorrect",
	0x12: "application launch failed",
}

var callControlCauses = map[byte]string{
	0x00: "no specific cause can be given",
	0x01: "action not allowed",
	0x02: "the type of request has changed",
}

var multipleCardCauses = map[byte]string{
	0x00: "no specific cause can be given",
	0x01: "card reader removed or not present",
	0x02: "card removed or not present",
	0x03: "card reader busy",
	0x04: "card powered off",
	0x05: "C-APDU format error",
	0x06: "mute card",
	0x07: "transmission error",
	0x08: "protocol not supported",
	0x09: "specified reader not valid",
}

var browserCauses = map[byte]string{
	0x00: "no specific cause can be given",
	0x01: "bearer unavailable",
	0x02: "browser unavailable",
	0x03: "terminal unable to read the provisioning data",
	0x04: "default URL unavailable",
}

// AdditionalInfoString explains the additional information bytes of a
// result (TS 102 223 §8.12.x): the terminal's cause for 20, the network
// cause for 21, the BIP cause for 3A, and so on. It returns "" when there is
// nothing to explain.
func AdditionalInfoString(g GeneralResult, info []byte) string {
	if len(info) == 0 {
		return ""
	}
	var table map[byte]string
	switch g {
	case ResultTerminalUnable:
		table = terminalCauses
	case ResultBIPError:
		table = bipCauses
	case ResultCallControlPermanent:
		table = callControlCauses
	case ResultMultipleCardError:
		table = multipleCardCauses
	case ResultBrowserError:
		table = browserCauses
	case ResultNetworkUnable, ResultSSReturnError, ResultSMSRPError, ResultUSSDReturnError:
		if info[0]&0x80 != 0 {
			return fmt.Sprintf("cause from the network: %02X", info[0]&0x7F)
		}
		if info[0] == 0 {
			return "no specific cause can be given"
		}
		return fmt.Sprintf("network cause %02X", info[0])
	default:
		return ""
	}
	if n, ok := table[info[0]]; ok {
		return n
	}
	return fmt.Sprintf("cause %02X", info[0])
}

// Event is an event of an event list (ETSI TS 102 223 §8.25).
type Event byte

// Events (TS 102 223 §8.25).
const (
	EventMTCall              Event = 0x00
	EventCallConnected       Event = 0x01
	EventCallDisconnected    Event = 0x02
	EventLocationStatus      Event = 0x03
	EventUserActivity        Event = 0x04
	EventIdleScreenAvailable Event = 0x05
	EventCardReaderStatus    Event = 0x06
	EventLanguageSelection   Event = 0x07
	EventBrowserTermination  Event = 0x08
	EventDataAvailable       Event = 0x09
	EventChannelStatus       Event = 0x0A
	EventAccessTechnology    Event = 0x0B
	EventDisplayParameters   Event = 0x0C
	EventLocalConnection     Event = 0x0D
	EventNetworkSearchMode   Event = 0x0E
	EventBrowsingStatus      Event = 0x0F
)

var eventNames = [...]string{
	"MT call", "call connected", "call disconnected", "location status", "user activity",
	"idle screen available", "card reader status", "language selection", "browser termination",
	"data available", "channel status", "access technology change", "display parameters changed",
	"local connection", "network search mode change", "browsing status", "frames information change",
	"I-WLAN access status", "network rejection", "HCI connectivity event",
	"access technology change (multiple)", "CSG cell selection", "contactless state request",
}

// String returns the TS 102 223 §8.25 name.
func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("event %02X", byte(e))
}

// Tone is a tone of PLAY TONE (ETSI TS 102 223 §8.16).
type Tone byte

// String returns the TS 102 223 §8.16 name.
func (t Tone) String() string {
	switch t {
	case 0x01:
		return "dial tone"
	case 0x02:
		return "called subscriber busy"
	case 0x03:
		return "congestion"
	case 0x04:
		return "radio path acknowledge"
	case 0x05:
		return "radio path not available / call dropped"
	case 0x06:
		return "error / special information"
	case 0x07:
		return "call waiting tone"
	case 0x08:
		return "ringing tone"
	case 0x10:
		return "general beep"
	case 0x11:
		return "positive acknowledgement tone"
	case 0x12:
		return "negative acknowledgement or error tone"
	case 0x13:
		return "ringing tone selected by the user"
	case 0x14:
		return "SMS alert tone selected by the user"
	}
	return fmt.Sprintf("tone %02X", byte(t))
}

// LocationStatus is the location status object (TS 102 223 §8.27).
type LocationStatus byte

// String returns the TS 102 223 §8.27 name.
func (s LocationStatus) String() string {
	switch s {
	case 0:
		return "normal service"
	case 1:
		return "limited service"
	case 2:
		return "no service"
	}
	return fmt.Sprintf("location status %02X", byte(s))
}

// LocalInfoKind is the qualifier of PROVIDE LOCAL INFORMATION (ETSI TS 102
// 223 §8.6; TS 31.111 §8.6).
type LocalInfoKind byte

// Kinds of local information (TS 102 223 §8.6, TS 31.111 §8.6).
const (
	LocalInfoLocation        LocalInfoKind = 0x00 // MCC, MNC, LAC/TAC, cell ID
	LocalInfoIMEI            LocalInfoKind = 0x01
	LocalInfoNMR             LocalInfoKind = 0x02 // network measurement results
	LocalInfoDateTime        LocalInfoKind = 0x03 // date, time and time zone
	LocalInfoLanguage        LocalInfoKind = 0x04
	LocalInfoTimingAdvance   LocalInfoKind = 0x05
	LocalInfoAccessTech      LocalInfoKind = 0x06
	LocalInfoESN             LocalInfoKind = 0x07
	LocalInfoIMEISV          LocalInfoKind = 0x08
	LocalInfoSearchMode      LocalInfoKind = 0x09
	LocalInfoBatteryState    LocalInfoKind = 0x0A
	LocalInfoMEID            LocalInfoKind = 0x0B
	localInfoKindNamesLength               = 0x0C
)

var localInfoNames = [localInfoKindNamesLength]string{
	"location information (MCC, MNC, LAC, cell ID)", "IMEI", "network measurement results",
	"date, time and time zone", "language setting", "timing advance", "access technology",
	"ESN", "IMEISV", "search mode", "charge state of the battery", "MEID",
}

// String returns the TS 102 223 / TS 31.111 §8.6 name.
func (k LocalInfoKind) String() string {
	if int(k) < len(localInfoNames) {
		return localInfoNames[k]
	}
	return fmt.Sprintf("local information %02X", byte(k))
}

// RefreshMode is the qualifier of REFRESH (ETSI TS 102 223 §8.6).
type RefreshMode byte

// Refresh modes (TS 102 223 §8.6, TS 31.111 §8.6 for 07).
const (
	RefreshNAAInitFullFCN  RefreshMode = 0x00 // NAA initialization and full file change notification
	RefreshFCN             RefreshMode = 0x01 // file change notification
	RefreshNAAInitFCN      RefreshMode = 0x02 // NAA initialization and file change notification
	RefreshNAAInit         RefreshMode = 0x03 // NAA initialization
	RefreshUICCReset       RefreshMode = 0x04 // UICC reset
	RefreshNAAAppReset     RefreshMode = 0x05 // NAA application reset
	RefreshNAASessionReset RefreshMode = 0x06 // NAA session reset
	RefreshSteeringRoaming RefreshMode = 0x07 // steering of roaming (TS 31.111)
)

var refreshNames = [...]string{
	"NAA initialization and full file change notification", "file change notification",
	"NAA initialization and file change notification", "NAA initialization", "UICC reset",
	"NAA application reset", "NAA session reset", "steering of roaming",
	"steering of roaming for I-WLAN",
}

// String returns the TS 102 223 §8.6 name.
func (m RefreshMode) String() string {
	if int(m) < len(refreshNames) {
		return refreshNames[m]
	}
	return fmt.Sprintf("refresh mode %02X", byte(m))
}

// TimerAction is the qualifier of TIMER MANAGEMENT (TS 102 223 §8.6).
type TimerAction byte

// Timer actions (TS 102 223 §8.6).
const (
	TimerStart      TimerAction = 0
	TimerDeactivate TimerAction = 1
	TimerGetValue   TimerAction = 2
)

// String returns the TS 102 223 §8.6 name.
func (a TimerAction) String() string {
	switch a {
	case TimerStart:
		return "start"
	case TimerDeactivate:
		return "deactivate"
	case TimerGetValue:
		return "get current value"
	}
	return "RFU"
}

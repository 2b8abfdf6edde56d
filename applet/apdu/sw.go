package apdu

import "fmt"

// SW is a status word SW1SW2 (ISO/IEC 7816-4 §5.6, ETSI TS 102 221 §10.2,
// 3GPP TS 51.011 §9.4 for the GSM class).
type SW uint16

// Status words a UICC uses, named after ETSI TS 102 221 §10.2.1 unless
// stated. Status words whose SW2 carries a number (61xx, 6Cxx, 63Cx, 91xx,
// 9Fxx, 9Exx, 92xx) have a constructor below as well.
const (
	SWOK                    SW = 0x9000 // normal ending of the command
	SWProactivePending      SW = 0x9100 // 91xx: normal ending, proactive command of xx bytes pending
	SWDataDownloadError     SW = 0x9E00 // 9Exx: SIM/USIM data download error, xx bytes of response
	SWGSMResponseAvailable  SW = 0x9F00 // 9Fxx: GSM class, xx response bytes available
	SWResponseAvailable     SW = 0x6100 // 61xx: xx response bytes still available
	SWToolkitBusy           SW = 0x9300 // SIM Application Toolkit is busy, command cannot be executed now
	SWMemoryRetry           SW = 0x9200 // 920x: success after x internal retries (GSM)
	SWMemoryProblem         SW = 0x9240 // memory problem (GSM)
	SWNoEFSelected          SW = 0x9400 // no EF selected (GSM)
	SWOutOfRange            SW = 0x9402 // out of range, invalid address (GSM)
	SWGSMFileNotFound       SW = 0x9404 // file ID / pattern not found (GSM)
	SWFileInconsistent      SW = 0x9408 // file inconsistent with the command (GSM)
	SWNoCHVInitialised      SW = 0x9802 // no CHV initialised (GSM)
	SWAccessNotFulfilled    SW = 0x9804 // access condition not fulfilled / CHV verification failed (GSM)
	SWCHVContradiction      SW = 0x9808 // in contradiction with CHV status (GSM)
	SWInvalidation          SW = 0x9810 // in contradiction with invalidation status (GSM)
	SWCHVBlocked            SW = 0x9840 // CHV blocked / UNBLOCK CHV failed, no attempt left (GSM)
	SWIncreaseFailed        SW = 0x9850 // increase cannot be performed, max value reached (GSM)
	SWAuthError             SW = 0x9862 // authentication error, application specific (TS 102 221)
	SWSecuritySession       SW = 0x9863 // security session or association expired (TS 102 221)
	SWWarning               SW = 0x6200 // no information given, state of non-volatile memory unchanged
	SWPartCorrupted         SW = 0x6281 // part of returned data may be corrupted
	SWEndOfFile             SW = 0x6282 // end of file/record reached before reading Le bytes
	SWFileInvalidated       SW = 0x6283 // selected file invalidated
	SWFCINotFormatted       SW = 0x6285 // selected file in termination state
	SWMoreData              SW = 0x62F1 // more data available
	SWMoreDataProactive     SW = 0x62F2 // more data available and proactive command pending
	SWResponseDataAvailable SW = 0x62F3 // response data available
	SWWarningChanged        SW = 0x6300 // no information given, state of non-volatile memory changed
	SWMoreDataChanged       SW = 0x63F1 // more data expected
	SWMoreDataProactiveChg  SW = 0x63F2 // more data expected and proactive command pending
	SWVerifyFailed          SW = 0x63C0 // 63Cx: verification failed, x retries left
	SWExecError             SW = 0x6400 // no information given, state of non-volatile memory unchanged
	SWExecErrorChanged      SW = 0x6500 // no information given, state of non-volatile memory changed
	SWMemoryFailure         SW = 0x6581 // memory problem
	SWWrongLength           SW = 0x6700 // wrong length
	SWCLAFunctionNone       SW = 0x6800 // functions in CLA not supported
	SWChannelNotSupported   SW = 0x6881 // logical channel not supported
	SWSMNotSupported        SW = 0x6882 // secure messaging not supported
	SWChainingNotSupported  SW = 0x6884 // command chaining not supported
	SWNotAllowed            SW = 0x6900 // command not allowed, no information given
	SWIncompatibleFile      SW = 0x6981 // command incompatible with file structure
	SWSecurityStatus        SW = 0x6982 // security status not satisfied
	SWAuthBlocked           SW = 0x6983 // authentication/PIN method blocked
	SWRefDataInvalidated    SW = 0x6984 // referenced data invalidated
	SWConditionsOfUse       SW = 0x6985 // conditions of use not satisfied
	SWNoCurrentEF           SW = 0x6986 // command not allowed (no EF selected)
	SWSMObjectsMissing      SW = 0x6987 // expected secure messaging data objects missing
	SWSMObjectsIncorrect    SW = 0x6988 // incorrect secure messaging data objects
	SWIncorrectData         SW = 0x6A80 // incorrect parameters in the data field
	SWFuncNotSupported      SW = 0x6A81 // function not supported
	SWFileNotFound          SW = 0x6A82 // file not found
	SWRecordNotFound        SW = 0x6A83 // record not found
	SWNotEnoughMemory       SW = 0x6A84 // not enough memory space in the file
	SWLcInconsistentTLV     SW = 0x6A85 // Nc inconsistent with TLV structure (ISO/IEC 7816-4)
	SWIncorrectP1P2         SW = 0x6A86 // incorrect parameters P1 to P2
	SWLcInconsistentP1P2    SW = 0x6A87 // Lc inconsistent with P1 to P2
	SWRefDataNotFound       SW = 0x6A88 // referenced data not found
	SWFileExists            SW = 0x6A89 // file already exists (ISO/IEC 7816-4)
	SWWrongP1P2             SW = 0x6B00 // wrong parameter(s) P1-P2
	SWWrongLe               SW = 0x6C00 // 6Cxx: wrong Le field, xx is the exact length
	SWINSNotSupported       SW = 0x6D00 // instruction code not supported or invalid
	SWCLANotSupported       SW = 0x6E00 // class not supported
	SWTechnicalProblem      SW = 0x6F00 // technical problem, no precise diagnosis
)

// SW1 returns the first status byte.
func (s SW) SW1() byte { return byte(s >> 8) }

// SW2 returns the second status byte.
func (s SW) SW2() byte { return byte(s) }

// Append appends the two status bytes to dst.
func (s SW) Append(dst []byte) []byte { return append(dst, byte(s>>8), byte(s)) }

// ResponseAvailable returns 61xx (n is clamped to 0..255, 0 meaning 256 or more).
func ResponseAvailable(n int) SW { return SWResponseAvailable | SW(clamp(n)) }

// GSMResponseAvailable returns 9Fxx.
func GSMResponseAvailable(n int) SW { return SWGSMResponseAvailable | SW(clamp(n)) }

// WrongLe returns 6Cxx, xx being the exact length available.
func WrongLe(n int) SW { return SWWrongLe | SW(clamp(n)) }

// ProactivePending returns 91xx, xx being the length of the pending command.
func ProactivePending(n int) SW { return SWProactivePending | SW(clamp(n)) }

// VerifyFailed returns 63Cx, x retries left (0..15).
func VerifyFailed(retries int) SW { return SWVerifyFailed | SW(min(max(retries, 0), 15)) }

func clamp(n int) byte {
	if n <= 0 || n > 255 {
		return 0
	}
	return byte(n)
}

// OK reports whether the command completed normally: 9000, 91xx, 92xx,
// 61xx, 9Fxx (ETSI TS 102 221 §10.2.1.1).
func (s SW) OK() bool {
	switch s >> 8 {
	case 0x90, 0x91, 0x92, 0x61, 0x9F:
		return true
	}
	return false
}

// String returns the status word in hex and its name, e.g.
// "6A82 file not found" or "63C2 verification failed, 2 retries left".
func (s SW) String() string { return fmt.Sprintf("%04X %s", uint16(s), s.Name()) }

// Name returns the name of the status word.
func (s SW) Name() string {
	x := int(s.SW2())
	switch s.SW1() {
	case 0x61:
		return fmt.Sprintf("response bytes still available (%d)", lenOr256(x))
	case 0x6C:
		return fmt.Sprintf("wrong Le field, exact length %d", lenOr256(x))
	case 0x91:
		return fmt.Sprintf("normal ending, proactive command pending (%d bytes)", lenOr256(x))
	case 0x9F:
		return fmt.Sprintf("response data available (%d bytes, GSM)", lenOr256(x))
	case 0x9E:
		return fmt.Sprintf("data download error, response of %d bytes", lenOr256(x))
	case 0x92:
		if x&0xF0 == 0 {
			return fmt.Sprintf("command successful after %d internal retries (GSM)", x&0x0F)
		}
	case 0x63:
		if x&0xF0 == 0xC0 {
			return fmt.Sprintf("verification failed, %d retries left", x&0x0F)
		}
	case 0x67:
		if x != 0 {
			return fmt.Sprintf("incorrect parameter P3 (GSM), expected %d", x)
		}
	}
	if n, ok := swNames[s]; ok {
		return n
	}
	switch s.SW1() {
	case 0x62:
		return "warning, state of non-volatile memory unchanged"
	case 0x63:
		return "warning, state of non-volatile memory changed"
	case 0x64:
		return "execution error, state of non-volatile memory unchanged"
	case 0x65:
		return "execution error, state of non-volatile memory changed"
	case 0x68:
		return "functions in CLA not supported"
	case 0x69:
		return "command not allowed"
	case 0x6A:
		return "wrong parameters"
	case 0x6B:
		return "wrong parameters P1-P2"
	case 0x6D:
		return "instruction code not supported or invalid"
	case 0x6E:
		return "class not supported"
	case 0x6F:
		return "technical problem"
	case 0x98:
		return "security management (GSM)"
	}
	return "unknown status word"
}

func lenOr256(x int) int {
	if x == 0 {
		return 256
	}
	return x
}

var swNames = map[SW]string{
	SWOK:                    "normal ending of the command",
	SWToolkitBusy:           "SIM Application Toolkit is busy",
	SWMemoryProblem:         "memory problem (GSM)",
	SWNoEFSelected:          "no EF selected (GSM)",
	SWOutOfRange:            "out of range, invalid address (GSM)",
	SWGSMFileNotFound:       "file ID not found (GSM)",
	SWFileInconsistent:      "file inconsistent with the command (GSM)",
	SWNoCHVInitialised:      "no CHV initialised (GSM)",
	SWAccessNotFulfilled:    "access condition not fulfilled or CHV verification failed (GSM)",
	SWCHVContradiction:      "in contradiction with CHV status (GSM)",
	SWInvalidation:          "in contradiction with invalidation status (GSM)",
	SWCHVBlocked:            "CHV blocked or unblock failed, no attempt left (GSM)",
	SWIncreaseFailed:        "increase cannot be performed, maximum value reached (GSM)",
	SWAuthError:             "authentication error, application specific",
	SWSecuritySession:       "security session or association expired",
	SWWarning:               "warning, no information given, state of non-volatile memory unchanged",
	SWPartCorrupted:         "part of returned data may be corrupted",
	SWEndOfFile:             "end of file/record reached before reading Le bytes",
	SWFileInvalidated:       "selected file invalidated",
	SWFCINotFormatted:       "selected file in termination state",
	SWMoreData:              "more data available",
	SWMoreDataProactive:     "more data available and proactive command pending",
	SWResponseDataAvailable: "response data available",
	SWWarningChanged:        "warning, no information given, state of non-volatile memory changed",
	SWMoreDataChanged:       "more data expected",
	SWMoreDataProactiveChg:  "more data expected and proactive command pending",
	SWExecError:             "execution error, state of non-volatile memory unchanged",
	SWExecErrorChanged:      "execution error, state of non-volatile memory changed",
	SWMemoryFailure:         "memory problem",
	SWWrongLength:           "wrong length",
	SWCLAFunctionNone:       "functions in CLA not supported",
	SWChannelNotSupported:   "logical channel not supported",
	SWSMNotSupported:        "secure messaging not supported",
	SWChainingNotSupported:  "command chaining not supported",
	SWNotAllowed:            "command not allowed, no information given",
	SWIncompatibleFile:      "command incompatible with file structure",
	SWSecurityStatus:        "security status not satisfied",
	SWAuthBlocked:           "authentication/PIN method blocked",
	SWRefDataInvalidated:    "referenced data invalidated",
	SWConditionsOfUse:       "conditions of use not satisfied",
	SWNoCurrentEF:           "command not allowed (no EF selected)",
	SWSMObjectsMissing:      "expected secure messaging data objects missing",
	SWSMObjectsIncorrect:    "incorrect secure messaging data objects",
	SWIncorrectData:         "incorrect parameters in the data field",
	SWFuncNotSupported:      "function not supported",
	SWFileNotFound:          "file not found",
	SWRecordNotFound:        "record not found",
	SWNotEnoughMemory:       "not enough memory space",
	SWLcInconsistentTLV:     "Lc inconsistent with TLV structure",
	SWIncorrectP1P2:         "incorrect parameters P1 to P2",
	SWLcInconsistentP1P2:    "Lc inconsistent with P1 to P2",
	SWRefDataNotFound:       "referenced data not found",
	SWFileExists:            "file already exists",
	SWWrongP1P2:             "wrong parameters P1-P2",
	SWINSNotSupported:       "instruction code not supported or invalid",
	SWCLANotSupported:       "class not supported",
	SWTechnicalProblem:      "technical problem, no precise diagnosis",
}

// Response is a response APDU: an optional data field and the status word
// (ISO/IEC 7816-4 §5.1).
type Response struct {
	Data []byte
	SW   SW
}

// ParseResponse splits a response APDU into data and status word. Data
// aliases b.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, &Error{Offset: len(b), Expected: "2 status bytes SW1 SW2", Err: ErrShort}
	}
	n := len(b) - 2
	return Response{Data: b[:n:n], SW: SW(b[n])<<8 | SW(b[n+1])}, nil
}

// Append appends data and status word to dst.
func (r Response) Append(dst []byte) []byte {
	dst = append(dst, r.Data...)
	return r.SW.Append(dst)
}

package pdu

import (
	"encoding/binary"
	"fmt"
)

// Tag is an optional parameter tag (SMPP 3.4 §5.3.2).
type Tag uint16

// Optional parameter tags (SMPP 3.4 §5.3.2; network_error_code etc. as
// listed there).
const (
	TagDestAddrSubunit        Tag = 0x0005
	TagDestNetworkType        Tag = 0x0006
	TagDestBearerType         Tag = 0x0007
	TagDestTelematicsID       Tag = 0x0008
	TagSourceAddrSubunit      Tag = 0x000D
	TagSourceNetworkType      Tag = 0x000E
	TagSourceBearerType       Tag = 0x000F
	TagSourceTelematicsID     Tag = 0x0010
	TagQosTimeToLive          Tag = 0x0017
	TagPayloadType            Tag = 0x0019
	TagAdditionalStatusInfo   Tag = 0x001D
	TagReceiptedMessageID     Tag = 0x001E
	TagMsMsgWaitFacilities    Tag = 0x0030
	TagPrivacyIndicator       Tag = 0x0201
	TagSourceSubaddress       Tag = 0x0202
	TagDestSubaddress         Tag = 0x0203
	TagUserMessageReference   Tag = 0x0204
	TagUserResponseCode       Tag = 0x0205
	TagSourcePort             Tag = 0x020A
	TagDestinationPort        Tag = 0x020B
	TagSarMsgRefNum           Tag = 0x020C
	TagLanguageIndicator      Tag = 0x020D
	TagSarTotalSegments       Tag = 0x020E
	TagSarSegmentSeqnum       Tag = 0x020F
	TagSCInterfaceVersion     Tag = 0x0210
	TagCallbackNumPresInd     Tag = 0x0302
	TagCallbackNumAtag        Tag = 0x0303
	TagNumberOfMessages       Tag = 0x0304
	TagCallbackNum            Tag = 0x0381
	TagDpfResult              Tag = 0x0420
	TagSetDpf                 Tag = 0x0421
	TagMsAvailabilityStatus   Tag = 0x0422
	TagNetworkErrorCode       Tag = 0x0423
	TagMessagePayload         Tag = 0x0424
	TagDeliveryFailureReason  Tag = 0x0425
	TagMoreMessagesToSend     Tag = 0x0426
	TagMessageState           Tag = 0x0427
	TagUssdServiceOp          Tag = 0x0501
	TagDisplayTime            Tag = 0x1201
	TagSmsSignal              Tag = 0x1203
	TagMsValidity             Tag = 0x1204
	TagAlertOnMessageDelivery Tag = 0x130C
	TagItsReplyType           Tag = 0x1380
	TagItsSessionInfo         Tag = 0x1383
)

// fixedLen is the value length of TLVs whose size SMPP 3.4 §5.3.2 fixes.
func fixedLen(t Tag) int {
	switch t {
	case TagDestAddrSubunit, TagDestNetworkType, TagDestBearerType, TagSourceAddrSubunit,
		TagSourceNetworkType, TagSourceBearerType, TagPayloadType, TagMsMsgWaitFacilities,
		TagPrivacyIndicator, TagUserResponseCode, TagLanguageIndicator, TagSarTotalSegments,
		TagSarSegmentSeqnum, TagSCInterfaceVersion, TagCallbackNumPresInd, TagNumberOfMessages,
		TagDpfResult, TagSetDpf, TagMsAvailabilityStatus, TagDeliveryFailureReason,
		TagMoreMessagesToSend, TagMessageState, TagUssdServiceOp, TagDisplayTime, TagMsValidity,
		TagItsReplyType:
		return 1
	case TagDestTelematicsID, TagUserMessageReference, TagSourcePort, TagDestinationPort,
		TagSarMsgRefNum, TagSmsSignal, TagItsSessionInfo:
		return 2
	case TagNetworkErrorCode:
		return 3
	case TagQosTimeToLive:
		return 4
	case TagAlertOnMessageDelivery:
		return 0
	}
	return -1
}

// TLV is one optional parameter (SMPP 3.4 §3.2.4). Value aliases the
// decoded input.
type TLV struct {
	Tag   Tag
	Value []byte
}

// TLVs is the optional part of a body, in wire order.
type TLVs []TLV

// Get returns the value of the first TLV with tag.
func (ts TLVs) Get(tag Tag) ([]byte, bool) {
	for i := range ts {
		if ts[i].Tag == tag {
			return ts[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether tag is present.
func (ts TLVs) Has(tag Tag) bool {
	_, ok := ts.Get(tag)
	return ok
}

// Uint8 returns a one-octet value.
func (ts TLVs) Uint8(tag Tag) (uint8, bool) {
	v, ok := ts.Get(tag)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// Uint16 returns a two-octet big-endian value.
func (ts TLVs) Uint16(tag Tag) (uint16, bool) {
	v, ok := ts.Get(tag)
	if !ok || len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// CString returns a C-octet-string value without its NUL terminator
// (receipted_message_id, additional_status_info_text).
func (ts TLVs) CString(tag Tag) ([]byte, bool) {
	v, ok := ts.Get(tag)
	if !ok {
		return nil, false
	}
	if n := len(v); n > 0 && v[n-1] == 0 {
		v = v[:n-1]
	}
	return v, true
}

// tlvs appends the TLVs of the rest of the body to dst. A lenient cursor
// accepts any value length for the tags whose length §5.3.2 fixes.
func (c *cursor) tlvs(dst TLVs) (TLVs, error) {
	b, off := c.b[c.off:], c.off
	for len(b) > 0 {
		if len(b) < 4 {
			return dst, &DecodeError{Offset: off, Field: "TLV header", Msg: fmt.Sprintf("%d octets left, want 4", len(b)), Status: StatusInvOptParStream, Err: ErrShort}
		}
		tag := Tag(binary.BigEndian.Uint16(b))
		n := int(binary.BigEndian.Uint16(b[2:]))
		if 4+n > len(b) {
			return dst, &DecodeError{Offset: off + 2, Field: fmt.Sprintf("TLV 0x%04X length", uint16(tag)), Msg: fmt.Sprintf("length %d exceeds the %d octets left", n, len(b)-4), Status: StatusInvOptParStream, Err: ErrShort}
		}
		if f := fixedLen(tag); f >= 0 && n != f && !c.lenient {
			return dst, malformed(off+2, fmt.Sprintf("TLV 0x%04X length", uint16(tag)), StatusInvParLen, "length %d, want %d", n, f)
		}
		dst = append(dst, TLV{Tag: tag, Value: b[4 : 4+n : 4+n]})
		b = b[4+n:]
		off += 4 + n
	}
	return dst, nil
}

// appendTLVs encodes ts.
func appendTLVs(b []byte, ts TLVs) []byte {
	for _, t := range ts {
		b = AppendTLV(b, t.Tag, t.Value)
	}
	return b
}

// AppendTLV appends one TLV.
func AppendTLV(b []byte, tag Tag, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(tag))
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// AppendTLVUint8 appends a one-octet TLV.
func AppendTLVUint8(b []byte, tag Tag, v uint8) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(tag)), 0, 1, v)
}

// AppendTLVUint16 appends a two-octet TLV.
func AppendTLVUint16(b []byte, tag Tag, v uint16) []byte {
	b = append(binary.BigEndian.AppendUint16(b, uint16(tag)), 0, 2)
	return binary.BigEndian.AppendUint16(b, v)
}

// AppendTLVCString appends a C-octet-string TLV (value NUL-terminated).
func AppendTLVCString(b []byte, tag Tag, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(tag))
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)+1))
	return append(append(b, s...), 0)
}

// NetworkErrorCode builds the network_error_code value (SMPP 3.4
// §5.3.2.31): network type (1 ANSI-136, 2 IS-95, 3 GSM) and a 2-octet error.
func NetworkErrorCode(netType uint8, code uint16) []byte {
	return []byte{netType, byte(code >> 8), byte(code)}
}

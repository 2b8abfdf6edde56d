package cat

// ConfirmPrompt returns the DISPLAY TEXT the authenticator applet raises for
// a Level of Assurance 2 challenge (docs/applet-protocol.md): the text waits
// for the user to clear it (qualifier bit 8), so the terminal answers only
// when the user presses OK (result 00), goes back (11), ends the session
// (10) or lets it time out (12). highPriority sets qualifier bit 1, which
// shows the text even over another application. The text is coded in the
// GSM default alphabet (DCS 04) when it can be, else UCS2 (DCS 08).
func ConfirmPrompt(number byte, text string, highPriority bool) *DisplayText {
	return &DisplayText{
		Header:       Header{Number: number},
		HighPriority: highPriority,
		WaitForUser:  true,
		Text:         Text(text),
	}
}

// PINPrompt returns the GET INPUT the authenticator applet raises for a
// Level of Assurance 3 challenge: digits only, SMS default alphabet, input
// hidden (qualifier 04), exactly digits characters long (response length
// digits..digits). testdata/vectors.txt has the encoding of
// PINPrompt(1, "Enter PIN", 5) (derived/get-input-pin).
func PINPrompt(number byte, text string, digits byte) *GetInput {
	return &GetInput{
		Header:    Header{Number: number},
		HideInput: true,
		Text:      Text(text),
		Length:    ResponseLength{Min: digits, Max: digits},
	}
}

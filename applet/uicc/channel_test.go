package uicc

import (
	"context"
	"testing"
)

// TestLogicalChannels: MANAGE CHANNEL (TS 102 221 §11.1.17) opens and
// closes channels 1 to 3, as the ATR announces; each channel keeps its own
// current DF, EF and application, addressed by the low bits of CLA (§10.1.1),
// and GET RESPONSE returns the data of its own channel.
func TestLogicalChannels(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{
		{"01A4000C023F00", "6881"},                  // channel 1 is not open
		{"0070000001", "01 9000"},                   // open, the card chooses: 1
		{"0070000000", "02 9000"},                   // Le 00 (256) too
		{"0070000003", "9000"},                      // open channel 3 by number
		{"0070000301", "6700"},                      // by number: no Le
		{"0070000001", "6A81"},                      // all three open
		{"0070000100", "6985"},                      // already open
		{"0070000400", "6881"},                      // no channel 4
		{"00A4040C07A0000000871002", "9000"},        // basic channel: ADF_USIM
		{"01A4000C022FE2", "9000"},                  // channel 1 started at the MF: EF_ICCID is there
		{"01B000000A", "989909010000000000F5 9000"}, // read on channel 1
		{"00B000000A", "6986"},                      // the basic channel has no EF selected
		{"00A4000C026FAD", "9000"},                  // EF_AD in the USIM on the basic channel
		{"00B0000004", "00000002 9000"},             // …
		{"02A4000C026FAD", "6A82"},                  // channel 2 is at the MF: no EF_AD there
		{"81F2000100", "6A88"},                      // STATUS on channel 1: no application
		{"80F2000100", "8410A0000000871002FFFFFFFF8900000100 9000"},
		{"01A40004022FE2", "611D"}, // T=0 on channel 1: the FCP waits there
		{"00C000001D", "6985"},     // not on the basic channel
		{"01C000001D", "621B…9000"},
		{"4070000000", "6881"},    // further interindustry class: channel 4
		{"0070800100", "9000"},    // close channel 1 (case 1 in T=0 form, P3 = 00)
		{"01B000000A", "6881"},    // closed
		{"0070800000", "6A86"},    // the basic channel cannot be closed
		{"0070800100", "6881"},    // closed already
		{"0070000001", "01 9000"}, // reopened: the first free number
		{"01B000000A", "6986"},    // fresh state: no EF
		{"0270000001", "6A81"},    // full again
	})
	// A channel opened from a channel other than the basic one starts in
	// that channel's application.
	run(t, c, []step{
		{"0370800200", "9000"},               // close 2 from channel 3
		{"03A4040C07A0000000871002", "9000"}, // USIM on channel 3
		{"0370000000", "02 9000"},            // open from channel 3: channel 2
		{"02A4000C026FAD", "9000"},           // EF_AD found: channel 2 is in the USIM
		{"82F2000100", "8410A0000000871002…9000"},
	})
	// A reset closes them all.
	if _, err := c.Reset(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	run(t, c, []step{{"01A4000C023F00", "6881"}, {"03A4000C023F00", "6881"}, {"0070000001", "01 9000"}})
}

// TestCase1T0: a case 1 command sent in T=0 form carries P3 = 00 (ISO/IEC
// 7816-3 §12.2.2); the card takes it as no Le rather than Le 256 (issue 16:
// 00 20 00 01 00 was answered 6700). Commands that return data keep P3 = 00
// as Le.
func TestCase1T0(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{
		{"0020000100", "63C3"},                 // VERIFY PIN1, retry counter query
		{"002000010831323334FFFFFFFF", "9000"}, // verified
		{"0020000100", "9000"},                 // now it reports verified
		{"002C000100", "63CA"},                 // UNBLOCK PIN query: 10 PUK tries
		{"0020000A00", "63CA"},                 // ADM1 query
		{"80F2000C00", "9000"},                 // STATUS, no data returned
		{"00A4000C00", "9000"},                 // SELECT MF without data returned
		{"00B0000000", "6986"},                 // READ BINARY: P3 00 is Le 256
		{"0070800100", "6881"},                 // MANAGE CHANNEL close
		{"80F2000000", "6230…9000"},            // STATUS with data: P3 00 is Le
		{"A0A40000023F00", "9F16"},             // GSM class unchanged
		{"A020000100", "6700"},                 // GSM VERIFY CHV: P3 is always 08 (TS 51.011 §9.2.9)
		{"8010000000", "6700"},                 // TERMINAL PROFILE needs data
		{"A0F2000000", "0000800 0…9000"},       // GSM STATUS: P3 00 is Le
	})
}

// TestGetResponseClass: GET RESPONSE is accepted in the class of the
// command it follows (TS 102 221 table 10.5): 80 after STATUS, TERMINAL
// PROFILE or ENVELOPE, as pySim-shell and simlab's own terminals send it,
// and still in 00 (issue 16: class 80 was refused with 6E00 and the waiting
// data dropped).
func TestGetResponseClass(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{
		{"80F20000", "6132"},        // STATUS, case 1 T=0 style: 61xx
		{"80C0000032", "6230…9000"}, // GET RESPONSE in class 80
		{"80F20000", "6132"},        //
		{"00C0000010", "6230…6122"}, // or 00, in parts
		{"80C0000022", "…9000"},     // and 80 for the rest
		{"80C0000001", "6985"},      // nothing left
		{"A0C0000001", "6F00"},      // GSM class: technical problem
		{"90C0000001", "6E00"},      // nor 9X (reserved)
	})
}

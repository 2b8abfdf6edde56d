package uicc

import (
	"context"
	"testing"
)

// TestFileSystem walks the file system of ETSI TS 102 221 §8 / 3GPP TS
// 31.102 §4 with SELECT, READ/UPDATE BINARY/RECORD and STATUS, and checks
// the status words of TS 102 221 §10.2.1.
func TestFileSystem(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{
		{"00A4000C023F00", "9000"},
		{"00A4000C022FE2", "9000"},
		{"00B000000A", "989909010000000000F5 9000"}, // EF_ICCID, TS 102 221 §13.2
		{"00B0000010", "6C0A"},                      // Le too long: exact length (T=0)
		{"00B0000000", "989909010000000000F5 9000"}, // Le 00: what there is
		{"00B0000502", "0000 9000"},                 // offset 5
		{"00B0000A01", "6B00"},                      // offset beyond the end
		{"00B0", "6700"},                            // malformed
		{"00B00000", "6700"},                        // no Le
		{"00B0820000", "989909010000000000F5 9000"}, // by SFI 2 from the MF
		{"00B09F0000", "6A86"},                      // SFI 31 is invalid
		{"00B0830000", "6A82"},                      // no EF with SFI 3 in the MF
		{"00D6000001AA", "6982"},                    // EF_ICCID: update never
		{"00B2010400", "6981"},                      // records of a transparent EF
		{"00A4000C022F00", "9000"},                  // EF_DIR
		{"00B2010420", "61184F10A0000000871002FFFFFFFF890000010050045553494D…9000"},
		{"00B2010410", "6C20"},
		{"00B2020400", "6A83"},
		{"00B2000200", "6A83"},     // next from record 1: there is no record 2
		{"00B2000300", "6A83"},     // previous from record 1
		{"00A4000C022F00", "9000"}, // selecting again clears the record pointer
		{"00B2000200", "61…9000"},  // next: record 1
		{"00B2000300", "6A83"},
		{"00B2010500", "6A86"},                                      // mode 5
		{"00B201FC00", "6A86"},                                      // SFI 31
		{"00B201F400", "61…9000"},                                   // EF_DIR by its SFI 30
		{"00B2F40400", "6A83"},                                      // record 244
		{"00A4040C07A0000000871002", "9000"},                        // USIM by partial AID
		{"00A4000C026F07", "9000"},                                  // EF_IMSI
		{"00B0000009", "6982"},                                      // PIN1 not verified
		{"00A4080C047FFF6FAD", "9000"},                              // path via the current ADF
		{"00B0000004", "00000002 9000"},                             // EF_AD: always readable
		{"00A4080C047F106F40", "9000"},                              // DF_TELECOM/EF_MSISDN
		{"00B201041C", "6982"},                                      // PIN protected
		{"00A4000C026F99", "6A82"},                                  // not found
		{"00A4050C023F00", "6A86"},                                  // P1 05
		{"00A40010023F00", "6A86"},                                  // P2 10
		{"00A4080C037F106F", "6700"},                                // odd path
		{"00A4000C033F0000", "6700"},                                // FID of 3 bytes
		{"00A4030C", "9000"},                                        // parent of DF_TELECOM: MF
		{"80F2000000", "6230…9000"},                                 // STATUS: FCP of the MF
		{"80F200000C", "62308202782183023F00A50C 6126"},             // Le shorter than the FCP
		{"80F2000C00", "9000"},                                      // no data
		{"80F2030000", "6A86"},                                      // P1 03
		{"80F2000100", "8410A0000000871002FFFFFFFF8900000100 9000"}, // current application AID
		{"00FE000000", "6D00"},                                      // unknown INS
		{"FFA4000C023F00", "6E00"},                                  // invalid class
		{"0010000001FF", "6E00"},                                    // TERMINAL PROFILE needs class 80
		{"01A4000C023F00", "6881"},                                  // logical channel 1
		{"0CA4000C023F00", "6882"},                                  // secure messaging
		{"10A4000C023F00", "6884"},                                  // chaining
		{"00A4", "6700"},                                            // too short
		{"00A4000C053F00", "6700"},                                  // Lc 5, 2 bytes
		{"00C0000010", "6985"},                                      // nothing to get
		{"00A40004023F00", "6132"},                                  // T=0: FCP waits
		{"00C0000010", "62308202782183023F00A50C80017187 6122"},     // part of it
		{"00C0000030", "6C22"},                                      // too much asked
		{"00C0000022", "01008304000080008A01058C03039A00C60C9001C0950108830101 83010A810215ED 9000"},
		{"00C0000022", "6985"},
	})
	// After a reset there is no current application: 7FFF is not found.
	if _, err := c.Reset(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	run(t, c, []step{{"00A4000C027FFF", "6A82"}, {"00B0000001", "6986"}})
}

// TestRecordsUpdate covers UPDATE RECORD modes and the record pointer.
func TestRecordsUpdate(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	rec := "FFFFFFFFFFFFFFFFFFFFFFFFFFFF0791991900000021FFFFFFFFFFFF"
	run(t, c, []step{
		{"00200001083132333 4FFFFFFFF", "9000"},
		{"00A4080C047FF06F40", "9000"}, // the ADF also answers to its file identifier
		{"00A4040C07A0000000871002", "9000"},
		{"00A4000C026F40", "9000"},
		{"00DC0104 1C" + rec, "9000"}, // absolute record 1
		{"00B2010400", rec + "9000"},  //
		{"00DC0104 02AAAA", "6700"},   // wrong record length
		{"00DC0304 1C" + rec, "6A83"}, // record 3 of 2
		{"00DC0003 1C" + rec, "6A83"}, // previous from record 1: none
		{"00B2000400", "…9000"},       // current record
		{"00B2000300", "6A83"},
	})
}

func TestPIN(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	const (
		sel    = "00A4040C07A0000000871002"
		selIM  = "00A4000C026F07"
		readIM = "00B0000009"
		imsi   = "089999990000000010 9000"
		pin    = "31323334FFFFFFFF"
		bad    = "31313131FFFFFFFF"
		puk    = "3132333435363738"
	)
	reset := step{"reset", ""}
	steps := []step{
		{sel, "9000"}, {selIM, "9000"}, {readIM, "6982"},
		{"00200001", "63C3"},                   // retry query
		{"0020000108" + bad, "63C2"},           // wrong
		{"0020000108313131FFFFFFFF31", "6A80"}, // badly formatted: no try used
		{"002000010431323334", "6700"},         // Lc 4
		{"0020000208" + pin, "6A88"},           // key reference 02 unknown
		{"0020010108" + pin, "6A86"},           // P1 01
		{"0020000108" + pin, "9000"},
		{"00200001", "9000"},
		{readIM, imsi},
		reset,
		{sel, "9000"}, {selIM, "9000"}, {readIM, "6982"},
		{"0020000108" + bad, "63C2"},
		{"0020000108" + bad, "63C1"},
		{"0020000108" + bad, "6983"},
		{"0020000108" + pin, "6983"}, // blocked
		{"00200001", "6983"},
		{"002C0001", "63CA"},                              // PUK retries
		{"002C000110" + bad + bad, "63C9"},                // wrong PUK
		{"002C000110" + puk + "34333231FFFFFFFF", "9000"}, // new PIN 4321
		{readIM, imsi},
		{"002C0001", "63CA"},
		{"0024000110" + "34333231FFFFFFFF" + "31313131FFFFFFFF", "9000"}, // CHANGE to 1111
		{"0020000108" + pin, "63C2"},
		{"0020000108" + bad, "9000"},
		{"0028000108" + bad, "6985"}, // already enabled
		{"0026000108" + pin, "63C2"}, // disable with a wrong PIN
		{"0026000108" + bad, "9000"}, // disabled
		{"0026000108" + bad, "6985"},
		{"0024000110" + bad + bad, "6984"}, // change while disabled
		reset,
		{sel, "9000"}, {selIM, "9000"}, {readIM, imsi}, // no PIN needed now
		{"00200001", "9000"},
		{"0028000108" + bad, "9000"}, // enable again
		reset,
		{sel, "9000"}, {selIM, "9000"}, {readIM, "6982"},
		{"00D6000001AA", "6982"},                    // EF_IMSI update needs ADM
		{"0020000A08" + "3838383838383838", "9000"}, // ADM1
		{"0026000A08" + "3838383838383838", "6985"}, // ADM cannot be disabled
		{"00D6000001AA", "9000"},
		{readIM, "6982"}, // ADM does not stand for PIN1 on the terminal's side
	}
	for i, s := range steps {
		if s.capdu == "reset" {
			if _, err := c.Reset(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			continue
		}
		run(t, c, steps[i:i+1])
	}
	// PUK blocked after 10 wrong tries.
	c = newCard(t, testProfile)
	for i := 9; i >= 1; i-- {
		run(t, c, []step{{"002C000110" + bad + bad, "63C" + string("0123456789"[i])}})
	}
	run(t, c, []step{{"002C000110" + bad + bad, "6983"}, {"002C0001", "6983"}, {"002C000110" + puk + pin, "6983"}})
}

// TestGSM covers the 2G command set of 3GPP TS 51.011 (class A0): 9Fxx and
// GET RESPONSE with the GSM response, CHV and GSM status words.
func TestGSM(t *testing.T) {
	t.Parallel()
	c := newCard(t, testProfile)
	run(t, c, []step{
		{"A0A40000023F00", "9F16"},
		{"A0C0000016", "00008000 3F00 01 0000000000 09 01 0204 04 00 83 8A 0000 9000"}, // 2 DFs, 4 EFs
		{"A0A40000027F20", "9F16"},
		{"A0A40000026F07", "9F0F"},
		{"A0C000000F", "0000 0009 6F07 04 00 14 F0 44 01 02 00 00 9000"},
		{"A0B0000009", "9804"},
		{"A020000108" + "31313131FFFFFFFF", "9804"},
		{"A020000108" + "31323334FFFFFFFF", "9000"},
		{"A0B0000009", "089999990000000010 9000"},
		{"A0B2010400", "9408"},
		{"A0A40000026F99", "9404"},
		{"A0A40000027FF0", "9404"},
		{"A0A40400023F00", "6B00"},
		{"A0F2000016", "00008000 7F20 02 0000000000 09 01 000C 04 00 83 8A 0000 9000"}, // the 12 EFs of TS 51.011 §10.3 kept here
		{"A0A40000027F10", "9F16"},
		{"A0A40000026F40", "9F0F"},
		{"A0B201041C", "FFFFFFFFFFFFFFFFFFFFFFFFFFFF0791991900000010FFFFFFFFFFFF9000"},
		{"A0B2010410", "671C"},
		{"A0FA0000", "9000"}, // SLEEP
		{"A0C0000010", "6F00"},
	})
}

package devices

// Known is a device simlab recognises by its USB vendor and product ids.
type Known struct {
	VendorID  uint16 `json:"vendor_id"`
	ProductID uint16 `json:"product_id"`
	Vendor    string `json:"vendor"`
	Model     string `json:"model"`
	Kind      Kind   `json:"kind"`
}

// knownModems lists cellular modules by USB id. Sources: the Linux kernel's
// drivers/usb/serial/option.c (Quectel QUECTEL_PRODUCT_*, Telit
// TELIT_PRODUCT_*, SIMCom, ZTE, Huawei, u-blox R410M on Qualcomm's id) and
// drivers/usb/serial/qcserial.c (Sierra Wireless MC/EM74xx, EM7565),
// drivers/usb/class/cdc-acm.c users (u-blox LISA/SARA-U2).
var knownModems = []Known{
	{0x2C7C, 0x0121, "Quectel", "EC21", KindModem},
	{0x2C7C, 0x0125, "Quectel", "EC25/EG25", KindModem},
	{0x2C7C, 0x0191, "Quectel", "EG91", KindModem},
	{0x2C7C, 0x0195, "Quectel", "EG95", KindModem},
	{0x2C7C, 0x0296, "Quectel", "BG96", KindModem},
	{0x2C7C, 0x0306, "Quectel", "EP06", KindModem},
	{0x2C7C, 0x0512, "Quectel", "EM12", KindModem},
	{0x1199, 0x68C0, "Sierra Wireless", "MC7304/MC7354", KindModem},
	{0x1199, 0x9071, "Sierra Wireless", "MC74xx", KindModem},
	{0x1199, 0x9079, "Sierra Wireless", "EM74xx", KindModem},
	{0x1199, 0x9091, "Sierra Wireless", "EM7565", KindModem},
	{0x12D1, 0x1001, "Huawei", "E169/E620 (modem mode)", KindModem},
	{0x12D1, 0x1506, "Huawei", "E3372/E398 (modem mode)", KindModem},
	{0x1546, 0x1102, "u-blox", "LISA-U2/SARA-U2", KindModem},
	{0x05C6, 0x90B2, "u-blox", "SARA-R410M", KindModem},
	{0x1BC7, 0x1031, "Telit", "LE910C1-EUX", KindModem},
	{0x1BC7, 0x1050, "Telit", "FN980", KindModem},
	{0x1BC7, 0x1100, "Telit", "ME910", KindModem},
	{0x1BC7, 0x110A, "Telit", "ME910G1", KindModem},
	{0x1BC7, 0x1200, "Telit", "LE920", KindModem},
	{0x1BC7, 0x1201, "Telit", "LE910", KindModem},
	{0x1E0E, 0x9001, "SIMCom", "SIM7100/SIM7500/SIM7600", KindModem},
	{0x19D2, 0x0031, "ZTE", "MF626/MF636", KindModem},
	{0x19D2, 0x0117, "ZTE", "MF190", KindModem},
}

// modemVendors are vendor ids that only make cellular modules: a device of
// theirs with vendor-specific interfaces is most likely a modem even when its
// product id is not in knownModems.
var modemVendors = map[uint16]string{
	0x2C7C: "Quectel",
	0x1199: "Sierra Wireless",
	0x1BC7: "Telit",
	0x1E0E: "SIMCom",
	0x1546: "u-blox",
}

// knownReaders lists CCID smart-card readers by USB id. Source: the CCID
// driver's supported-readers list (libccid Info.plist, as installed by
// Debian's libccid in /usr/lib/pcsc/drivers/ifd-ccid.bundle).
var knownReaders = []Known{
	{0x072F, 0x2200, "ACS", "ACR122U PICC", KindCCIDReader},
	{0x072F, 0x223B, "ACS", "ACR1252 Dual", KindCCIDReader},
	{0x072F, 0x223E, "ACS", "ACR1252", KindCCIDReader},
	{0x072F, 0xB100, "ACS", "ACR39U", KindCCIDReader},
	{0x076B, 0x3021, "HID Omnikey", "CardMan 3121", KindCCIDReader},
	{0x076B, 0x5421, "HID Omnikey", "5421", KindCCIDReader},
	{0x076B, 0x5422, "HID Omnikey", "5422", KindCCIDReader},
	{0x076B, 0x5022, "HID Omnikey", "5022", KindCCIDReader},
	{0x08E6, 0x3437, "Gemalto", "PC Twin / IDBridge CT30", KindCCIDReader},
	{0x04E6, 0x511F, "SCM Microsystems", "SCR3310", KindCCIDReader},
	{0x04E6, 0x5790, "Identiv", "uTrust 3700 F", KindCCIDReader},
	{0x096E, 0x061A, "Feitian", "bR301", KindCCIDReader},
	{0x1050, 0x0407, "Yubico", "YubiKey OTP+FIDO+CCID", KindCCIDReader},
}

// Lookup returns what simlab knows about vid:pid, if anything.
func Lookup(vid, pid uint16) (Known, bool) {
	for _, t := range [][]Known{knownModems, knownReaders} {
		for _, k := range t {
			if k.VendorID == vid && k.ProductID == pid {
				return k, true
			}
		}
	}
	return Known{}, false
}

package apdu_test

import (
	"fmt"

	"github.com/simlab-dev/simlab/applet/apdu"
)

func ExampleParse() {
	c, err := apdu.Parse([]byte{0x00, 0xA4, 0x04, 0x04, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0x00})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Name(), c.Case(), len(c.Data), c.Ne)
	r, _ := apdu.ParseResponse([]byte{0x63, 0xC2})
	fmt.Println(r.SW)
	// Output:
	// SELECT 4 7 256
	// 63C2 verification failed, 2 retries left
}

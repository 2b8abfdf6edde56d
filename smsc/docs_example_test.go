package smsc_test

import (
	"context"
	"fmt"
	"net"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

// ExampleServer is docs/smsc.md's first Go example: a Server routing one
// number to a phone, serving on a loopback listener.
func ExampleServer() {
	ctx := context.Background()
	routes := &smsc.Routes{}
	routes.AddNumber("99901000042", smsc.PhoneSink{Phone: printPhone{}})
	srv := &smsc.Server{Router: routes}      // zero value: open loopback SMSC, in-memory store
	l, _ := net.Listen("tcp", "127.0.0.1:0") // simlab serve: 127.0.0.1:2775
	go srv.Serve(l)
	defer srv.Shutdown(ctx)

	cl, err := client.Dial(ctx, client.Config{Addr: l.Addr().String(), SystemID: "sut", Password: "any", Mode: client.Transmitter})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close(ctx)
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: "99901000042"}, ShortMessage: []byte("hello")}); err != nil {
		fmt.Println(err)
		return
	}
	<-delivered
	// Output: delivered to 99901000042
}

var delivered = make(chan struct{}, 1)

// printPhone is an smsc.Phone that says what reached it.
type printPhone struct{}

func (printPhone) DeliverSMS(_ context.Context, m *smsc.Message, _ [][]byte) error {
	fmt.Println("delivered to", m.Dest.Addr)
	delivered <- struct{}{}
	return nil
}

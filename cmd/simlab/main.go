// Command simlab simulates the SIM-applet and SMS authenticators behind
// phone-based login: an SMSC, a fleet of emulated phones with SIM Toolkit
// applets, and the tools to drive real modems and card readers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

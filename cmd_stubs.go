package main

import (
	"fmt"
	"io"
)

// runParity and runClient are filled in by the parity work (issue 5).
func runParity(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "vpay88-sandbox parity: not built yet")
	return 2
}

func runClient(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "vpay88-sandbox client: not built yet")
	return 2
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vpay88/vpay88-sandbox/config"
)

// parseFlags parses args into fs alike for every subcommand. --help (-h) prints the
// command's own help to stdout (a help asked for is output, for a pager or grep) and
// returns flag.ErrHelp. A flag that is unknown, or a value that does not parse, is one
// error naming where the flags are listed: the flag package's own way printed the
// whole usage, 60 lines, with the error before it and again after it (issue 21).
//
// fs.Usage must write to fs.Output(); cmd is the command as typed ("serve",
// "parity"), for the hint.
func parseFlags(fs *flag.FlagSet, cmd string, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard) // the flag package prints the error and the usage there
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return err
	}
	if err != nil {
		return fmt.Errorf("%w (\"vpay88-sandbox %s --help\" lists its flags)", err, cmd)
	}
	return nil
}

// isHelp says whether a command line asks for help and nothing else.
func isHelp(args []string) bool {
	return len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help")
}

// commandHelp is each command's help for `vpay88-sandbox help <command>`: the command
// run with --help.
func commandHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "vpay88-sandbox help: one command at a time, not %q\n", strings.Join(args, " "))
		return 2
	}
	if args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if !slices.Contains(commandNames, args[0]) {
		fmt.Fprintln(stderr, unknownCommand(args[0]))
		return 2
	}
	return run([]string{args[0], "--help"}, stdout, stderr)
}

// commandNames are the subcommands run dispatches, as usage lists them.
var commandNames = []string{"serve", "parity", "client", "proxy", "compact", "config", "healthcheck", "version", "help"}

// unknownCommand is the one line an unknown command gets.
func unknownCommand(cmd string) string {
	return fmt.Sprintf("vpay88-sandbox: unknown command %q (\"vpay88-sandbox help\" lists the commands)", cmd)
}

// versionHelp is `version --help`.
const versionHelp = `usage: vpay88-sandbox version

Prints the version of this binary.
`

// runVersion is `vpay88-sandbox version`.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if isHelp(args) {
		fmt.Fprint(stdout, versionHelp)
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "vpay88-sandbox version: unexpected arguments: %v (\"vpay88-sandbox version --help\")\n", args)
		return 2
	}
	fmt.Fprintln(stdout, "vpay88-sandbox", buildVersion())
	return 0
}

// configHelp is `config --help`.
const configHelp = `usage: vpay88-sandbox config default
       vpay88-sandbox config check FILE

default  prints the embedded default configuration, with its comments: a starting
         point for --config. A config file needs only the keys it changes; the rest
         comes from this default.
check    reads FILE as --config would (merged over the default) and says what is
         wrong with it, with its line; exit 0 when the sandbox would start with it.
`

// runConfig is `vpay88-sandbox config default|check FILE`.
func runConfig(args []string, stdout, stderr io.Writer) int {
	if isHelp(args) {
		fmt.Fprint(stdout, configHelp)
		return 0
	}
	switch {
	case len(args) == 1 && args[0] == "default":
		stdout.Write(config.DefaultYAML())
		return 0
	case len(args) == 2 && args[0] == "check":
		c, err := config.Load(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "vpay88-sandbox:", err)
			return 1
		}
		fmt.Fprintf(stdout, "config %s: ok (%s, %s)\n", args[1], plural(len(c.Merchants), "merchant"), plural(len(c.Scenarios), "scenario rule"))
		return 0
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "vpay88-sandbox config: which? \"config default\" or \"config check FILE\" (\"vpay88-sandbox config --help\")")
		return 2
	}
	fmt.Fprintf(stderr, "vpay88-sandbox config: want \"default\" or \"check FILE\", not %q (\"vpay88-sandbox config --help\")\n", strings.Join(args, " "))
	return 2
}

// plural writes n and the noun, with an s unless n is 1 ("1 merchant", "0 scenario rules").
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Command linkd runs a linkd node (`linkd serve`, also the default) and
// offers client subcommands that talk to a running node's API.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	_ "time/tzdata" // analytics time zones work in a scratch image too
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module and VCS information Go embeds.
var version = ""

// versionString says which linkd this is: the release, or the commit it
// was built from (with +dirty for uncommitted changes).
func versionString() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	rev, dirty := "", ""
	if ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (" + rev + dirty + ")"
	}
	goVersion := "go"
	if ok {
		goVersion = info.GoVersion
	}
	return "linkd " + v + " " + goVersion
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run dispatches a subcommand and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		cmd = "version"
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr)
	case "cluster":
		err = clusterCmd(args, stdout, stderr)
	case "backup":
		err = backupCmd(args, stdout, stderr)
	case "restore":
		err = restoreCmd(args, stdout, stderr)
	case "link", "key", "user", "blocklist", "domain", "feed":
		err = apiCmd(cmd, args, stdout, stderr)
	case "import":
		err = importCmd(args, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	case "version":
		fmt.Fprintln(stdout, versionString())
		return 0
	default:
		fmt.Fprintf(stderr, "linkd: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "linkd: %v\n", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `linkd — short links and link-in-bio pages, one binary.

Usage:
  linkd [serve] [flags]    run a node (the default); see linkd serve -h
  linkd cluster status     show members, leader and each member's lag
  linkd cluster remove ID  remove a node from the cluster
  linkd link create URL    create a short link (also: list, get, update, delete)
  linkd key create NAME    create an API key --scope ... (also: list, delete)
  linkd user create EMAIL  create an account (admins; also: list)
  linkd blocklist add KIND VALUE
                           block a url, host or domain (admins; also: list, delete)
  linkd domain add HOST    serve links or profiles on another domain (admins; also: list, get, update, rm)
  linkd feed add NAME FORMAT URL
                           subscribe to a threat feed: hosts, list or urlhaus (admins; also: list, delete)
  linkd import --from SOURCE FILE
                           import links from bitly, yourls, shlink, kutt, csv or linkd exports
  linkd link export        export links (CSV or JSON lines) or --analytics (CSV)
  linkd backup -o FILE     stream a consistent backup of the cluster (admins)
  linkd restore FILE --data-dir DIR
                           verify a backup and seed a new data directory with it
  linkd version            print the version (also: linkd --version)
  linkd help               this text; linkd COMMAND -h for a command's own

Client commands take --server (any node's URL) and --token, or
LINKD_SERVER and LINKD_TOKEN; "linkd link" alone lists its commands.

Every flag can also be set with an environment variable: --data-dir is
LINKD_DATA_DIR, and so on. Flags on the command line win.
`)
}

// envName is the environment variable for a flag name.
func envName(flagName string) string {
	return "LINKD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags applies LINKD_* environment variables as defaults, then the
// command line, where flags and positional arguments may be interleaved
// (`linkd cluster remove n4 --server ...`). It returns the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("bad environment: %s", strings.Join(errs, "; "))
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

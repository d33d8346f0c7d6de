// Command loadgen drives running linkd nodes.
//
// Creates (the default): N concurrent clients POST /api/v1/links for a
// fixed time; it prints acknowledged creates per second and latency
// percentiles of the 201s.
//
//	go run ./bench/loadgen -server http://127.0.0.1:8080 -token lk_... -c 64 -d 10s
//
// Redirects, open loop (-rate): GET /<code> at a fixed rate over bench/seed's
// codes (uniform, or Zipf with -zipf S, S > 1), latency counted from each
// request's due time; it prints the answered rate and p50/p90/p99/p99.9.
//
//	go run ./bench/loadgen -server http://127.0.0.1:8080 -rate 5000 -d 10s -prefix u -codes 1000
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/linkd/linkd/bench/load"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8080", "linkd base URL (comma-separate several to spread creates over nodes)")
	token := flag.String("token", os.Getenv("LINKD_TOKEN"), "API token (creates)")
	conc := flag.Int("c", 64, "concurrent clients (creates); connections at most (redirects)")
	dur := flag.Duration("d", 10*time.Second, "duration")
	rate := flag.Float64("rate", 0, "redirects per second, open loop (0: measure creates instead)")
	prefix := flag.String("prefix", "u", "code prefix (redirects; bench/seed's -prefix)")
	codes := flag.Uint64("codes", 1000, "number of codes (redirects; bench/seed's -n)")
	zipf := flag.Float64("zipf", 0, "Zipf exponent over the codes, > 1 (redirects; 0: uniform)")
	want := flag.Int("status", 302, "expected status of a redirect")
	brief := flag.Bool("brief", false, "redirects: print only \"answered/s p50-µs p99-µs unexpected\" (for scripts)")
	flag.Parse()
	if *rate > 0 {
		r := load.OpenLoop(strings.Split(*server, ",")[0], load.Codes{Prefix: *prefix, N: *codes, Zipf: *zipf}, *rate, *dur, *want, *conc)
		if *brief {
			bad := 0
			for _, n := range r.Failures {
				bad += n
			}
			fmt.Printf("%.0f %d %d %d\n", float64(len(r.Latency))/r.Elapsed.Seconds(), r.Pct(0.5).Microseconds(), r.Pct(0.99).Microseconds(), bad)
			return
		}
		fmt.Println(r)
		return
	}
	fmt.Println(load.Run(strings.Split(*server, ","), *token, *conc, *dur))
}

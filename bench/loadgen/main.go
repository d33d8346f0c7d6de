// Command loadgen measures acknowledged link creates against running linkd
// nodes: N concurrent clients POST /api/v1/links for a fixed time; it prints
// creates per second and latency percentiles of the 201s.
//
//	go run ./bench/loadgen -server http://127.0.0.1:8080 -token lk_... -c 64 -d 10s
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
	server := flag.String("server", "http://127.0.0.1:8080", "linkd base URL (comma-separate several to spread load over nodes)")
	token := flag.String("token", os.Getenv("LINKD_TOKEN"), "API token")
	conc := flag.Int("c", 64, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	fmt.Println(load.Run(strings.Split(*server, ","), *token, *conc, *dur))
}

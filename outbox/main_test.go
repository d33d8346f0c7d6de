package outbox_test

import (
	"os"
	"testing"

	"github.com/linkd/linkd/internal/hangdump"
)

// A hung test prints the goroutines in linkd's code before go test's
// -timeout, instead of a full dump whose tail a CI log keeps.
func TestMain(m *testing.M) { os.Exit(hangdump.Run(m)) }

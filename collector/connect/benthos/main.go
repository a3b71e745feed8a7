// A Benthos binary for running and linting the configs in collector/connect/ in tests and on a
// developer's machine. It links only Benthos' own MIT-licensed components ("io": files, HTTP,
// subprocesses; "pure": mappings, brokers, caches), which Redpanda Connect ships too, so a config
// that runs here runs unchanged under `rpk connect run` or the Redpanda Connect image. A config
// that needs any other component fails to lint here, which is the point.
// Built and cached under .stack/benthos/ by e2e/support/benthos.ts.
package main

import (
	"context"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

func main() {
	service.RunCLI(context.Background())
}

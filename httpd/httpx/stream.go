package httpx

import (
	"bufio"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// streamWriteTimeout bounds each write of a streamed download, not the
// whole: a large export may take longer than the server's write timeout.
const streamWriteTimeout = 15 * time.Second

// StreamDownload answers 200 with an attachment whose body fill writes
// through fasthttp's body stream writer: nothing is buffered beyond the
// writer's buffer, so memory stays flat however large the body. A failure
// mid-stream is passed to failed (to log) and ends the body early.
func StreamDownload(ctx *fasthttp.RequestCtx, ctype, filename string, fill func(io.Writer) error, failed func(error)) {
	conn := ctx.Conn()
	ctx.SetContentType(ctype)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := fill(deadlineWriter{w, conn}); err != nil {
			failed(err)
			return
		}
		w.Flush()
	})
}

// deadlineWriter extends the connection's write deadline before each write.
type deadlineWriter struct {
	w    *bufio.Writer
	conn net.Conn
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return d.w.Write(p)
}

// StreamPage answers with the HTML page that fill writes, sent as it is
// written: fill calls flush to push what it has written so far to the
// client (a long operation's progress). The status and headers must be set
// before; a failure mid-stream is passed to failed and ends the body.
func StreamPage(ctx *fasthttp.RequestCtx, fill func(w io.Writer, flush func()) error, failed func(error)) {
	conn := ctx.Conn()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		dw := deadlineWriter{w, conn}
		if err := fill(dw, func() { w.Flush() }); err != nil {
			failed(err)
			return
		}
		w.Flush()
	})
}

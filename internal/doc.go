// Package internal holds nothing itself; its sub-packages are the one home
// of helpers that more than one layer needs (client addresses, tokens, the
// retry loop, the propose signature, list parsing, partial updates, yielding
// the processor in long loops), so no layer keeps its own copy.
package internal

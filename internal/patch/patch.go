// Package patch applies partial updates: a request or command says which
// fields change by giving them as pointers, nil meaning "leave as is". The
// fsm (applying an update) and ops (building one) both do this field by
// field, so the one rule lives here.
package patch

// Set sets *dst to *v when v is given (not nil).
func Set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

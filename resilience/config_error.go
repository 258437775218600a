package resilience

import (
	"fmt"
	"time"
)

// ConfigError is the error every constructor in this module returns for a
// configuration it refuses. Match it with errors.As and read its fields;
// its text is for people:
//
//	breaker "bank": FailureRate must be in (0, 1], got 1.5
type ConfigError struct {
	// Component is the package refusing: "breaker", "ratelimit", ….
	Component string
	// Name is the instance's configured name; it may be empty.
	Name string
	// Field is the offending field, as spelled in the Config struct
	// ("FailureRate"), or the argument's name for positional arguments.
	Field string
	// Rule says what the field must be, phrased to follow the field name:
	// "must be in (0, 1]", "must be at least 1".
	Rule string
	// Value is the value that broke the rule.
	Value any
}

// Error reads like `breaker "bank": FailureRate must be in (0, 1], got 1.5`.
func (e *ConfigError) Error() string {
	if e == nil {
		return "<nil>"
	}
	who := e.Component
	if e.Name != "" {
		who = fmt.Sprintf("%s %q", e.Component, e.Name)
	}
	return fmt.Sprintf("%s: %s %s, got %s", who, e.Field, e.Rule, formatValue(e.Value))
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case time.Duration:
		return v.String()
	case string:
		return fmt.Sprintf("%q", v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%v", v)
}

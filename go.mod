module github.com/riprap-go/riprap

go 1.25.0

require (
	github.com/benbjohnson/clock v1.3.5
	pgregory.net/rapid v1.3.0
)

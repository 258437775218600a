module github.com/riprap-go/riprap

go 1.26.8

require github.com/benbjohnson/clock v1.3.5

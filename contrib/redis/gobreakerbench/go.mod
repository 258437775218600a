module github.com/riprap-go/riprap/contrib/redis/gobreakerbench

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/riprap-go/riprap v0.0.0
	github.com/riprap-go/riprap/contrib/redis v0.0.0
	github.com/sony/gobreaker/v2 v2.1.0
)

require (
	github.com/benbjohnson/clock v1.3.5 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-redsync/redsync/v4 v4.13.0 // indirect
	github.com/hashicorp/errwrap v1.1.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace (
	github.com/riprap-go/riprap => ../../..
	github.com/riprap-go/riprap/contrib/redis => ..
)

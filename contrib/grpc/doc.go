// Package grpcx connects riprap's policies to gRPC: client interceptors that
// run each call through a breaker, a retry, a rate limit and an attempt
// timeout; server interceptors that shed load with a keyed rate limit, a
// concurrency limit and a per-call timeout; and the standard
// grpc.health.v1.Health service answering from a [health.Checker] and the
// breakers.
//
// It is its own module, github.com/riprap-go/riprap/contrib/grpc, so that a
// program importing only riprap's policies downloads neither gRPC nor
// protobuf. Its go.mod pins google.golang.org/grpc v1.84.0, the newest
// release whose go directive (go 1.25.0) still builds with the Go version
// of riprap's core module; v1.85.0 requires Go 1.26.
//
// # Client
//
// [NewClient] takes the policies and [Client.DialOptions] installs them:
//
//	client, err := grpcx.NewClient(grpcx.ClientConfig{
//		Breakers:       registry,
//		Retry:          retry,
//		Retryable:      grpcx.Methods("/bank.v1.Bank/GetStatus"),
//		AttemptTimeout: 2 * time.Second,
//	})
//	conn, err := grpc.NewClient(target, client.DialOptions()...)
//
// Each call is judged by its status code ([Classify]): Unavailable,
// DeadlineExceeded, ResourceExhausted, Internal, Unknown and DataLoss are
// failures of the server; InvalidArgument, NotFound, PermissionDenied and
// the other codes are answers, successes to a breaker; Canceled by the
// caller is ignored. A call a local policy refuses gets Unavailable with
// the policy and the delay before trying again in its details
// ([RejectionStatus], [RemoteRejection]); it is also a riprap rejection
// ([resilience.IsRejected]), for code that must know "not attempted". A
// server's [PushbackKey] trailer is honoured by the retry, up to its
// MaxRetryAfter.
//
// Only the methods [ClientConfig].Retryable names are retried: gRPC cannot
// tell which calls are safe to repeat. A stream is retried only before it
// received a message; see [Client.StreamInterceptor] for how streams are
// judged.
//
// # Server
//
// [NewServer] and [Server.ServerOptions] put a keyed rate limit, a
// concurrency limit (a bulkhead, or an adaptive one) and a timeout in front
// of the handlers. A refused call gets ResourceExhausted, with retry
// information in its details and in the pushback trailer, which gRPC's own
// retry honours too. The health service is left alone unless
// [ServerConfig].Guarded says otherwise, so probes are answered under load.
//
// # Health
//
// [NewHealthServer] serves grpc.health.v1.Health: Check, Watch and List.
// Service names are the checker's targets and the registry's breakers, plus
// the services [HealthConfig].Services composes of them; the empty name is
// the server's overall readiness, what a Kubernetes gRPC probe asks.
//
// Decisions:
//
//   - The caller's own deadline passing while a call is in flight is a
//     failure, as in [resilience.DefaultOutcome]: otherwise a server that
//     hangs never trips a breaker when callers set deadlines and nothing
//     else. [IgnoreCallerDeadline] gives the other rule.
//   - The caller gets the server's status unchanged, not wrapped in the
//     retry's error, so status.Code and status.FromError read it as they
//     would without the interceptor.
//   - Breakers are per service by default ([ByService]), since the methods
//     of a service share its servers; [ByMethod] and any other key
//     function are one field away. A breaker already in the registry under
//     the key is used as it is, so one bound to a health check serves.
package grpcx

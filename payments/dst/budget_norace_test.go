//go:build !race

package dst

import "time"

// The CI budget without the race detector: ciWorlds worlds of up to
// ciSize each (see the package doc for the figures).
const ciWorlds = 500

var ciSize = Size{MaxDuration: 3 * time.Minute, MaxPayments: 600}

// raceFlag is the flag a replay command needs to draw the same worlds.
const raceFlag = ""

// determinismWorlds is how many drawn worlds TestSameWorldSameRun runs
// twice.
const determinismWorlds = 20

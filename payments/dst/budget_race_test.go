//go:build race

package dst

import "time"

// The CI budget under -race, which makes a world about fifteen times
// slower: as many worlds, smaller ones (see the package doc).
const ciWorlds = 500

var ciSize = Size{MaxDuration: 90 * time.Second, MaxPayments: 100}

// raceFlag is the flag a replay command needs to draw the same worlds.
const raceFlag = " -race"

// determinismWorlds is how many drawn worlds TestSameWorldSameRun runs
// twice.
const determinismWorlds = 5

//go:build race

package store

// raceDetector is true under go test -race.
const raceDetector = true

package server

import "crypto/sha256"

// The checkout page's QR code for QR pay methods (thaiqr, duitnowqr): a picture the
// tester clicks to "scan", which pays the order. It has a QR code's look — 25 by 25
// modules, three finder squares, timing lines — with data modules drawn from a hash
// of the order; a phone cannot read it, which a sandbox's page needs no phone to do.

// qrSize is the side of the code in modules (a version 2 QR code's).
const qrSize = 25

// qrCell is one dark module.
type qrCell struct{ X, Y int }

// qrModules returns the dark modules of the code for seed.
func qrModules(seed string) []qrCell {
	var grid [qrSize][qrSize]bool
	reserved := func(x, y int) bool {
		inFinder := func(fx, fy int) bool { return x >= fx-1 && x <= fx+7 && y >= fy-1 && y <= fy+7 }
		return inFinder(0, 0) || inFinder(qrSize-7, 0) || inFinder(0, qrSize-7) || x == 6 || y == 6
	}
	for _, f := range [][2]int{{0, 0}, {qrSize - 7, 0}, {0, qrSize - 7}} {
		for dy := 0; dy < 7; dy++ {
			for dx := 0; dx < 7; dx++ {
				ring := dx == 0 || dy == 0 || dx == 6 || dy == 6
				core := dx >= 2 && dx <= 4 && dy >= 2 && dy <= 4
				grid[f[1]+dy][f[0]+dx] = ring || core
			}
		}
	}
	for i := 8; i < qrSize-8; i++ {
		grid[6][i], grid[i][6] = i%2 == 0, i%2 == 0
	}
	sum := sha256.Sum256([]byte(seed))
	bit := 0
	for y := 0; y < qrSize; y++ {
		for x := 0; x < qrSize; x++ {
			if reserved(x, y) {
				continue
			}
			if bit%256 == 0 && bit > 0 {
				sum = sha256.Sum256(sum[:])
			}
			b := bit % 256
			grid[y][x] = sum[b/8]&(1<<(b%8)) != 0
			bit++
		}
	}
	var out []qrCell
	for y := range qrSize {
		for x := range qrSize {
			if grid[y][x] {
				out = append(out, qrCell{x, y})
			}
		}
	}
	return out
}

//go:build mips || mipsle || mips64 || mips64le || ppc64 || ppc64le

package v4l2

// MIPS and PowerPC lay ioctl numbers out differently: three direction
// bits at 29, with "write" as 4.
const (
	iocRead      = 2
	iocWrite     = 4
	iocDirShift  = 29
	iocSizeShift = 16
)

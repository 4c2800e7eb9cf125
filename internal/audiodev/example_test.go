package audiodev_test

import (
	"fmt"

	"github.com/avlink/avlink/internal/audiodev"
)

// Match picks a device as Config.Device asks: by index, by part of the
// name, or the default.
func ExampleMatch() {
	devs := []audiodev.Device{
		{Index: 0, Name: "pulse", InputChannels: 32, OutputChannels: 32},
		{Index: 1, Name: "default", InputChannels: 32, OutputChannels: 32, DefaultInput: true, DefaultOutput: true},
		{Index: 2, Name: "USB PnP Sound Device: Audio (hw:1,0)", InputChannels: 1},
	}
	for _, spec := range []string{"", "2", "usb", "hdmi"} {
		d, err := audiodev.Match(devs, spec, audiodev.Input)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q: %d %s\n", spec, d.Index, d.Name)
	}
	// Output:
	// "": 1 default
	// "2": 2 USB PnP Sound Device: Audio (hw:1,0)
	// "usb": 2 USB PnP Sound Device: Audio (hw:1,0)
	// audiodev: no input device: none is named like "hdmi" (there are 0 "pulse", 1 "default", 2 "USB PnP Sound Device: Audio (hw:1,0)")
}

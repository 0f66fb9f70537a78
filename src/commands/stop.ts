import {nameCommand} from '../cli/lifecycle-command.js'
import {stop} from '../lifecycle/index.js'

export default nameCommand('stop', 'Boot the daemon out of launchd and wait until it has exited. Needs root.', stop)

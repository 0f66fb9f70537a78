import {nameCommand} from '../cli/lifecycle-command.js'
import {start} from '../lifecycle/index.js'

export default nameCommand('start', 'Enable and bootstrap the installed daemon under launchd, then run its health check. Needs root.', start)

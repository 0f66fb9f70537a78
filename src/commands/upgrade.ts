import {payloadCommand} from '../cli/lifecycle-command.js'
import {upgrade} from '../lifecycle/index.js'

export default payloadCommand('upgrade', 'Upgrade the installed daemon to the version in a payload; changed etc/ files are kept (the new default beside them as .default), var/ is never touched.', upgrade)
